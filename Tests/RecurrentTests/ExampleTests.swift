import Testing
import RecurrentExamples

/// Every tutorial example runs to completion and does what its tutorial says.
@Suite struct ExampleTests {
    func run(_ name: String) throws -> [String: Float] {
        let example = try #require(Example.named(name))
        var printed = ""
        let facts = try example.run { printed += $0 + "\n" }
        #expect(!printed.isEmpty)
        return facts
    }

    @Test(arguments: [
        ("simple-rnn", 4545), ("lstm", 17985), ("gru", 13697), ("stacked-lstm", 30369), ("bidirectional", 35969),
        ("time-distributed", 17985),
    ])
    func kerasSummaries(_ name: String, _ parameters: Float) throws {
        #expect(try run(name)["parameters"] == parameters)
    }

    @Test func dropoutModelLearns() throws {
        let facts = try run("dropout")
        #expect(facts["lastLoss"]! < facts["firstLoss"]! / 2)
    }

    @Test func sentimentClassifiesItsTrainingSentences() throws {
        let facts = try run("sentiment")
        #expect(facts["trainingAccuracy"] == 1)
        #expect(facts["lastLoss"]! < facts["firstLoss"]!)
    }

    @Test func rnnClassifierRecognisesSpeakers() throws {
        let facts = try run("rnn-classifier")
        #expect(facts["lastLoss"]! < facts["firstLoss"]! / 5)
        // Published results on this split are 95–99 %; a plain two-layer SimpleRNN gets close.
        #expect(facts["testAccuracy"]! > 0.85)
    }

    /// nn.RNN(10, 20) has 20·10 + 20·20 + 2·20 = 640 parameters, nn.Linear(20, 1) 21; a second
    /// layer (or cell) of 20 → 20 adds 840.
    @Test(arguments: [
        ("pytorch-simple-rnn", 661), ("pytorch-multilayer-rnn", 1501), ("pytorch-rnn-cell", 661),
        ("pytorch-multilayer-rnn-cell", 1501),
    ])
    func pytorchModules(_ name: String, _ parameters: Float) throws {
        let facts = try run(name)
        #expect(facts["outputRows"] == 3 && facts["outputWidth"] == 1)
        #expect(facts["parameters"] == parameters)
    }

    @Test func textClassificationLossFalls() throws {
        let facts = try run("text-classification")
        #expect(facts["lastLoss"]! < facts["firstLoss"]! / 4)
        #expect(facts["accuracy"]! > 0.9)
    }

    @Test func translationLearnsToReverse() throws {
        let facts = try run("translation")
        #expect(facts["lastLoss"]! < facts["firstLoss"]! / 4)
        #expect(facts["exactSentences"]! > 0.5)
    }

    @Test func everyExampleHasADistinctName() {
        #expect(Set(Example.all.map(\.name)).count == Example.all.count)
        #expect(Example.named("no-such-example") == nil)
    }
}
