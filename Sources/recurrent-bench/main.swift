import Foundation
import Recurrent

// recurrent-bench: speed measurements of the library's kernels and layers.
// Usage: recurrent-bench <subcommand> [options]; run with -c release.

let benchUsage = """
    usage: recurrent-bench [--isa portable|avx2|avx512|neon] <subcommand> [options]
      --isa forces the kernels onto one instruction set (default: the best this CPU has)
      gemm [--quick]
           SGEMM GFLOP/s: 1024³ plain and M=32 K=256 N=1024 with pre-packed B, 1 and 2 threads
      rnn [--configs A,B,C,D] [--cells rnn,lstm,gru] [--modes inference,training] [--json] …
          SimpleRNN / LSTM / GRU sequences per second on the peer benchmark's configurations
          (bench/README.md); --memory CONFIG CELL prints peak resident memory of training
      floor [--input 64] [--hidden 128] [--gates 4] [--steps 100]
          the batch-1 bound of this machine: W_hh read once per step, halves of h crossing cores
      bucketing [--examples 4000] [--max-length 250]
          one epoch of fit on padded token sequences with and without bucketing
      allreduce [--configs A,D] [--cell lstm] [--steps 5] [--threads N] [--latency-us 25]
          under mpirun, with the MPI trait: the gradient all-reduce's time and bandwidth, training
          steps with and without it, and (with -np 1) the projected scaling of a ring all-reduce
    """

var benchArguments = Array(CommandLine.arguments.dropFirst())
do {
    if let at = benchArguments.firstIndex(of: "--isa") {
        guard at + 1 < benchArguments.count, let isa = KernelISA(rawValue: benchArguments[at + 1]) else {
            throw RecurrentError.invalidArgument(
                "--isa expects one of " + KernelISA.allCases.map(\.rawValue).joined(separator: ", "))
        }
        try setKernelISA(isa)
        benchArguments.removeSubrange(at...(at + 1))
    }
    switch benchArguments.first {
    case "gemm":
        try GEMMBench.run(Array(benchArguments.dropFirst()))
    case "rnn":
        try RNNBench.run(Array(benchArguments.dropFirst()))
    case "bucketing":
        try BucketingBench.run(Array(benchArguments.dropFirst()))
    case "allreduce":
        try AllReduceBench.run(Array(benchArguments.dropFirst()))
    case "floor":
        try FloorBench.run(Array(benchArguments.dropFirst()))
    case "-h", "--help", "help":
        print(benchUsage)
    default:
        FileHandle.standardError.write(Data((benchUsage + "\n").utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("recurrent-bench: \(error)\n".utf8))
    exit(1)
}
