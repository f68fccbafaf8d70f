import Testing
@testable import Recurrent

/// The PyTorch face's tensor vocabulary against the numbers torch 2.13 wrote
/// (`tools/reference/make_torch_tensor_fixtures.py`): each expression's value and the gradient
/// of (result · w).sum() with respect to x; finite differences of the new differentiable ops;
/// creation, shapes and errors.
@Suite struct TorchTensorTests {
    /// Each fixture case, written the way a PyTorch user writes it here.
    static let cases: [(String, @Sendable (Variable, Tensor) throws -> Variable)] = [
        ("last_step", { x, _ in try x[.all, -1, .all] }),
        ("slice", { x, _ in try x[.all, 1..<3] }),
        ("negative", { x, _ in try x[-1, .all, (-3)..<(-1)] }),
        ("mixed", { x, _ in try x[0, 1..., 2] }),
        ("clamped", { x, _ in try x[.all, 1..<100] }),
        ("from", { x, _ in try x[.all, .all, 2...] }),
        ("permute", { x, _ in try x.permute(2, 0, 1) }),
        ("stack1", { x, _ in try Variable.stack([try x[0], try x[1]], dim: 1) }),
        ("stack_last", { x, _ in try Variable.stack([try x[0], try x[1] * 2], dim: -1) }),
        ("cat", { x, _ in try Variable.cat([x, x * 2], dim: 2) }),
        ("sum_keep", { x, _ in try x.sum(dim: 1, keepdim: true) }),
        ("mean_last", { x, _ in try x.mean(dim: -1) }),
        ("max1", { x, _ in try x.max(dim: 1).values }),
        ("max1_indices", { x, _ in Variable(try x.max(dim: 1).indices) }),
        ("max_keep", { x, _ in try x.max(dim: -1, keepdim: true).values }),
        ("argmax_keep", { x, _ in Variable(try x.argmax(dim: 2, keepdim: true)) }),
        ("ties_max", { _, ties in try Variable(ties).max(dim: 1).values }),
        ("ties_indices", { _, ties in Variable(try Variable(ties).max(dim: 1).indices) }),
        ("squeeze", { x, _ in try x[.all, 1..<2, .all].squeeze(1) }),
        ("unsqueeze", { x, _ in try x.unsqueeze(-1) }),
    ]

    @Test(arguments: cases.map(\.0))
    func matchesPyTorch(name: String) throws {
        let (tensors, _) = try Fixtures.load("torch_tensor_ops")
        let expression = Self.cases.first { $0.0 == name }!.1
        let x = Variable(tensors["x"]!, requiresGrad: true)
        let result = try expression(x, tensors["ties"]!)
        let expected = tensors[name]!
        #expect(result.shape == expected.shape, "\(name) shape")
        expectClose(result.value, expected, atol: 1e-6, rtol: 1e-6, name)
        guard let w = tensors[name + ".w"] else { return }
        try (try result * Variable(w)).sum().backward()
        expectClose(x.grad ?? Tensor.zeros(x.shape), tensors[name + ".grad"]!, atol: 1e-6, rtol: 1e-6, "\(name) gradient")
    }

    @Test func finiteDifferencesOfTheNewOps() throws {
        let x = random([3, 4, 5], seed: 3)
        try checkGradients([x]) { v in try v[0][.all, -1, 1..<4] }
        try checkGradients([x]) { v in try v[0][1, (-2)..., .all] }
        try checkGradients([x]) { v in try v[0].permute(1, 2, 0) }
        try checkGradients([x, x.map { $0 * 0.5 }]) { v in try Variable.stack(v, dim: 2) }
        try checkGradients([x]) { v in try v[0].max(dim: 1, keepdim: true).values }
        try checkGradients([x]) { v in try v[0].unsqueeze(0).squeeze() }
    }

    @Test func indexingMatchesTheIndexedAxis() throws {
        let x = try Tensor.tensor([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]])
        #expect(x.shape == [2, 2, 3])
        #expect(try x[1, 0, -1].scalars == [9])
        #expect(try x[.all, 1].shape == [2, 3])
        #expect(try x[.all, .all, ...1].scalars == [1, 2, 4, 5, 7, 8, 10, 11])
        #expect(try x[.all, 5..<9].shape == [2, 0, 3])  // a slice past the axis is empty, as in PyTorch
        #expect(try x.permuted([2, 0, 1]).shape == [3, 2, 2])
    }

    @Test func creation() throws {
        manualSeed(42)
        let a = Tensor.randn(32, 50, 100)
        manualSeed(42)
        #expect(Tensor.randn(32, 50, 100) == a)
        #expect(a.shape == [32, 50, 100])
        #expect(abs(a.mean()) < 0.02)
        let labels = try Tensor.randint(0, 2, [32])
        #expect(labels.shape == [32] && labels.scalars.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(labels.scalars.contains(0) && labels.scalars.contains(1))
        #expect(Tensor.rand(1000).scalars.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(Tensor.zeros(2, 3) == Tensor.zeros([2, 3]))
        #expect(try Tensor.arange(5).scalars == [0, 1, 2, 3, 4])
        #expect(try Tensor.arange(1, 2, step: 0.25).scalars == [1, 1.25, 1.5, 1.75])
        #expect(try Tensor.arange(3, 0, step: -1).scalars == [3, 2, 1])
        #expect(try Variable(Tensor.tensor([[2.5]])).item() == 2.5)
    }

    @Test func badInputIsNamed() throws {
        let x = Variable(Tensor.zeros(2, 3))
        #expect(message { _ = try x[2] }.contains("index 2 is out of range for axis 0 of size 2"))
        #expect(message { _ = try x[0, 0, 0] }.contains("rank 3 or more"))
        #expect(message { _ = try x.permute(0, 0) }.contains("not an ordering"))
        #expect(message { _ = try x.item() }.contains("shape [2, 3]"))
        #expect(message { _ = try Variable.stack([x, Variable(Tensor.zeros(3, 2))]) }.contains("stack"))
        #expect(message { _ = try Tensor([[1, 2], [3]] as [[Float]]) }.contains("row 1"))
        #expect(message { _ = try Tensor.tensor([[[1, 2]], [[3]]]) }.contains("ragged"))
        #expect(try Tensor.tensor([[1.5, 2], [3, 4]]).shape == [2, 2])
        #expect(message { _ = try Tensor.randint(3, 3, [2]) }.contains("above low"))
    }
}

/// The `torch.nn` and `torch.optim` names against torch's numbers (same fixture).
@Suite struct TorchModuleTests {
    @Test func lossModulesMatchPyTorch() throws {
        let (t, _) = try Fixtures.load("torch_tensor_ops")
        let cases: [(String, Tensor, Tensor, (Variable, Tensor) throws -> Variable)] = [
            ("cross_entropy", t["loss.logits"]!, t["loss.labels"]!, { try CrossEntropyLoss()($0, $1) }),
            ("mse", t["loss.pred"]!, t["loss.target"]!, { try MSELoss()($0, $1) }),
            ("bce_with_logits", t["loss.pred"]!, t["loss.target"]!, { try BCEWithLogitsLoss()($0, $1) }),
        ]
        for (name, input, target, loss) in cases {
            let x = Variable(input, requiresGrad: true)
            let value = try loss(x, target)
            try value.backward()
            expectClose(try value.reshape(1).value, t["loss.\(name)"]!, atol: 1e-6, rtol: 1e-5, name)
            expectClose(x.grad!, t["loss.\(name).grad"]!, atol: 1e-6, rtol: 1e-5, "\(name) gradient")
        }
    }

    /// `Adam(model.parameters(), lr: 0.1)` takes PyTorch's defaults (ε 1e-8).
    @Test func adamWithPyTorchDefaults() throws {
        let (t, _) = try Fixtures.load("torch_tensor_ops")
        let model = Linear(3, 4)
        let p = model.parameters()[0]
        p.value = t["loss.pred"]!
        let adam = Adam([p], lr: 0.1)
        #expect(adam.epsilon == 1e-8 && AdamW([p]).weightDecay == 0.01)
        for step in 1...3 {
            adam.zeroGradients()
            let s = (try p * Variable(t["loss.target"]!)).sum()
            try (try s * s).backward()
            try adam.step()
            expectClose(p.value, t["adam.p\(step)"]!, atol: 1e-6, rtol: 1e-5, "step \(step)")
        }
    }

    @Test func namesPrintAsPyTorchPrintsThem() {
        #expect(String(describing: Linear(20, 1)) == "Linear(in_features=20, out_features=1, bias=True)")
        #expect(String(describing: RNNCell(inputSize: 10, hiddenSize: 20)) == "RNNCell(10, 20)")
        #expect(Linear(20, 1).parameters().map(\.shape) == [[1, 20], [1]])
        #expect(noGrad { GradientMode.isEnabled } == false)
    }
}
