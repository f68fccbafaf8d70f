// How the recurrent layers take part in models: Keras masks in, masks out, training mode.

extension RecurrentLayer: MaskAware, TrainingAware {
    /// The output for the next layer of a model, with the mask of real steps applied. The mask
    /// flows on only while there is a time axis (`returnSequences`). A PyTorch-style stack
    /// returns its output sequence.
    public func call(_ input: Variable, mask: Tensor?) throws -> (output: Variable, mask: Tensor?) {
        let sequenceMask = mask.map { SequenceMask.mask($0) }
        if convention == .pytorch || numLayers > 1 || bidirectional {
            return (try run(input, initialState: nil, mask: sequenceMask).output, mask)
        }
        let output = try call(input, mask: sequenceMask)[0]
        return (output, returnSequences ? mask : nil)
    }
}

extension Bidirectional: MaskAware, TrainingAware {
    public func call(_ input: Variable, mask: Tensor?) throws -> (output: Variable, mask: Tensor?) {
        let output = try call(input, mask: mask.map { SequenceMask.mask($0) })[0]
        return (output, forwardLayer.returnSequences ? mask : nil)
    }
}

extension Dense: MaskAware {
    /// Keras's Dense passes the mask through: on [B, T, F] it acts per step.
    public func call(_ input: Variable, mask: Tensor?) throws -> (output: Variable, mask: Tensor?) {
        (try self(input), input.rank == 3 ? mask : nil)
    }
}
