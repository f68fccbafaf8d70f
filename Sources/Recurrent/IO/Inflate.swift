/// DEFLATE decompression (RFC 1951): stored, fixed-Huffman and dynamic-Huffman blocks, as
/// written by zlib for ZIP method 8 (`np.savez_compressed`). Raw deflate only: no zlib or gzip
/// wrapper. Every read is bounds-checked; malformed input throws `Inflate.Failure`.
///
/// Huffman codes are decoded through a 9-bit lookup table, with the canonical bit-by-bit
/// decoder (as in zlib's `puff.c`) for the rare longer codes.
enum Inflate {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        /// The stream produced more than the limit (the only failure `prefix` stops at quietly).
        var reachedLimit = false
    }

    /// How many blocks of each type a stream held (for tests).
    struct BlockCounts: Equatable {
        var stored = 0, fixed = 0, dynamic = 0
    }

    /// The decompressed bytes of a raw deflate stream. `expectedCount`, when given, is both a
    /// capacity hint and a limit: producing more bytes throws (a corrupt or hostile stream).
    static func inflate(_ input: UnsafeRawBufferPointer, expectedCount: Int? = nil) throws -> [UInt8] {
        var counts = BlockCounts()
        return try inflate(input, expectedCount: expectedCount, blocks: &counts)
    }

    /// At most the first `count` bytes a deflate stream inflates to (fewer only when the stream
    /// is shorter, or when a copy crosses the limit): what a header needs, without inflating the rest.
    static func prefix(_ input: UnsafeRawBufferPointer, count: Int) throws -> [UInt8] {
        var counts = BlockCounts()
        var out: [UInt8] = []
        do {
            try inflate(input, into: &out, expectedCount: count, blocks: &counts)
        } catch let failure as Failure where failure.reachedLimit {}
        return out
    }

    static func inflate(_ input: UnsafeRawBufferPointer, expectedCount: Int?, blocks: inout BlockCounts) throws -> [UInt8] {
        var out: [UInt8] = []
        try inflate(input, into: &out, expectedCount: expectedCount, blocks: &blocks)
        return out
    }

    static func inflate(_ input: UnsafeRawBufferPointer, into out: inout [UInt8], expectedCount: Int?, blocks: inout BlockCounts) throws {
        var reader = BitReader(input)
        let limit = expectedCount ?? Int.max
        if let expectedCount {  // deflate expands at most 1032:1, whatever a header claims
            out.reserveCapacity(min(expectedCount, input.count.multipliedReportingOverflow(by: 1032).partialValue + 64))
        }
        var last = false
        while !last {
            last = try reader.bits(1) == 1
            switch try reader.bits(2) {
            case 0:
                blocks.stored += 1
                try reader.storedBlock(into: &out, limit: limit)
            case 1:
                blocks.fixed += 1
                try codes(&reader, &out, limit: limit, Tables.fixedLengths, Tables.fixedDistances)
            case 2:
                blocks.dynamic += 1
                let (lengths, distances) = try dynamicTables(&reader)
                try codes(&reader, &out, limit: limit, lengths, distances)
            default:
                throw Failure(description: "block type 3 (reserved) at byte \(reader.position)")
            }
        }
    }

    /// Literal/length and distance symbols of one compressed block, up to end-of-block (256).
    static func codes(_ reader: inout BitReader, _ out: inout [UInt8], limit: Int, _ lengths: Huffman, _ distances: Huffman) throws {
        while true {
            let symbol = try reader.decode(lengths)
            if symbol < 256 {
                guard out.count < limit else { throw tooLong(limit) }
                out.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let index = symbol - 257
                guard index < 29 else { throw Failure(description: "invalid length symbol \(symbol)") }
                let length = Tables.lengthBase[index] + (try reader.bits(Tables.lengthExtra[index]))
                let d = try reader.decode(distances)
                guard d < 30 else { throw Failure(description: "invalid distance symbol \(d)") }
                let distance = Tables.distanceBase[d] + (try reader.bits(Tables.distanceExtra[d]))
                guard distance <= out.count else {
                    throw Failure(description: "distance \(distance) reaches before the start of the output (\(out.count) bytes)")
                }
                guard length <= limit - out.count else { throw tooLong(limit) }
                // Byte by byte: the source may overlap what is being written (a repeating
                // pattern), and appending a slice of `out` to itself would copy the whole array.
                let start = out.count - distance
                for i in 0..<length { out.append(out[start + i]) }
            }
        }
    }

    static func tooLong(_ limit: Int) -> Failure {
        Failure(description: "inflates to more than the \(limit) bytes recorded for it", reachedLimit: true)
    }

    /// Reads the code-length code and the literal/length and distance code lengths of a dynamic block.
    static func dynamicTables(_ reader: inout BitReader) throws -> (Huffman, Huffman) {
        let literalCount = try reader.bits(5) + 257
        let distanceCount = try reader.bits(5) + 1
        let codeLengthCount = try reader.bits(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else {
            throw Failure(description: "dynamic block declares \(literalCount) length and \(distanceCount) distance codes (at most 286 and 30)")
        }
        var codeLengthLengths = [Int](repeating: 0, count: 19)
        for i in 0..<codeLengthCount {
            codeLengthLengths[Tables.codeLengthOrder[i]] = try reader.bits(3)
        }
        let codeLengthCode = try Huffman(lengths: codeLengthLengths)
        var lengths: [Int] = []
        lengths.reserveCapacity(literalCount + distanceCount)
        while lengths.count < literalCount + distanceCount {
            let symbol = try reader.decode(codeLengthCode)
            var value = 0, repeats = 1
            switch symbol {
            case 0..<16: value = symbol
            case 16:
                guard let previous = lengths.last else { throw Failure(description: "repeat code 16 with no previous length") }
                value = previous
                repeats = 3 + (try reader.bits(2))
            case 17: repeats = 3 + (try reader.bits(3))
            default: repeats = 11 + (try reader.bits(7))
            }
            guard lengths.count + repeats <= literalCount + distanceCount else {
                throw Failure(description: "code lengths repeat past the \(literalCount + distanceCount) declared")
            }
            lengths.append(contentsOf: repeatElement(value, count: repeats))
        }
        guard lengths[256] != 0 else { throw Failure(description: "dynamic block has no end-of-block code") }
        return (try Huffman(lengths: Array(lengths[..<literalCount])),
                try Huffman(lengths: Array(lengths[literalCount...])))
    }

    /// A canonical Huffman code, from the code length of each symbol.
    struct Huffman {
        static let fastBits = 9
        /// Number of codes of each length 0...15.
        var counts = [Int](repeating: 0, count: 16)
        /// Symbols in code order.
        var symbols: [Int] = []
        /// Indexed by the next `fastBits` input bits: `length << 9 | symbol`, or 0 when the code is longer.
        var fast = [UInt16](repeating: 0, count: 1 << fastBits)

        init(lengths: [Int]) throws {
            for length in lengths { counts[length] += 1 }
            var left = 1  // codes of the current length still available
            for length in 1...15 {
                left = left * 2 - counts[length]
                guard left >= 0 else { throw Failure(description: "over-subscribed Huffman code") }
            }
            // An incomplete code is accepted (zlib accepts one for a single-code or empty
            // distance alphabet); an unused bit pattern throws when met.
            var offsets = [Int](repeating: 0, count: 16)
            for length in 1..<15 { offsets[length + 1] = offsets[length] + counts[length] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, length) in lengths.enumerated() where length != 0 {
                symbols[offsets[length]] = symbol
                offsets[length] += 1
            }
            // Fill the lookup table: walk codes in canonical order, bit-reversed (LSB first).
            var code = 0, index = 0
            for length in 1...Self.fastBits {
                for _ in 0..<counts[length] {
                    var reversed = 0
                    for bit in 0..<length where code & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
                    let entry = UInt16(length << 9 | symbols[index])
                    var fill = reversed
                    while fill < 1 << Self.fastBits {
                        fast[fill] = entry
                        fill += 1 << length
                    }
                    code += 1
                    index += 1
                }
                code <<= 1
            }
        }
    }

    struct BitReader {
        let input: UnsafeRawBufferPointer
        /// Next byte of `input` not yet in `buffer`.
        var position = 0
        var buffer: UInt64 = 0
        var count = 0

        init(_ input: UnsafeRawBufferPointer) { self.input = input }

        mutating func refill() {
            while count <= 56, position < input.count {
                buffer |= UInt64(input[position]) << UInt64(count)
                position += 1
                count += 8
            }
        }

        mutating func bits(_ n: Int) throws -> Int {
            if n == 0 { return 0 }
            if count < n {
                refill()
                guard count >= n else { throw Failure(description: "stream ends early (truncated)") }
            }
            let value = Int(buffer & ((1 << UInt64(n)) - 1))
            buffer >>= UInt64(n)
            count -= n
            return value
        }

        mutating func decode(_ code: Huffman) throws -> Int {
            if count < Huffman.fastBits { refill() }
            let entry = Int(code.fast[Int(buffer & UInt64((1 << Huffman.fastBits) - 1))])
            if entry != 0, entry >> 9 <= count {
                buffer >>= UInt64(entry >> 9)
                count -= entry >> 9
                return entry & 0x1ff
            }
            // Canonical decoding, one bit at a time (codes longer than the table, or the stream's end).
            var code_ = 0, first = 0, index = 0
            for length in 1...15 {
                code_ |= try bits(1)
                let n = code.counts[length]
                if code_ - first < n { return code.symbols[index + code_ - first] }
                index += n
                first = (first + n) << 1
                code_ <<= 1
            }
            throw Failure(description: "invalid Huffman code near byte \(position)")
        }

        /// A stored block: skip to the byte boundary, LEN, NLEN, then LEN raw bytes.
        mutating func storedBlock(into out: inout [UInt8], limit: Int) throws {
            _ = try bits(count % 8)
            let length = try bits(16)
            let complement = try bits(16)
            guard length == ~complement & 0xffff else {
                throw Failure(description: "stored block length \(length) does not match its complement \(complement)")
            }
            guard length <= limit - out.count else { throw tooLong(limit) }
            var remaining = length
            while remaining > 0, count >= 8 {  // bytes already in the bit buffer
                out.append(UInt8(try bits(8)))
                remaining -= 1
            }
            guard remaining <= input.count - position else { throw Failure(description: "stored block ends early (truncated)") }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[position..<(position + remaining)]))
            position += remaining
        }
    }

    enum Tables {
        static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
        static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
        static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                                   1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
        static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
        static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
        // The fixed codes of RFC 1951 §3.2.6 (always valid, so the `try!` cannot fail).
        static let fixedLengths = try! Huffman(lengths: Array(repeating: 8, count: 144) + Array(repeating: 9, count: 112)
            + Array(repeating: 7, count: 24) + Array(repeating: 8, count: 8))
        static let fixedDistances = try! Huffman(lengths: Array(repeating: 5, count: 30))
    }
}

/// CRC-32 (ISO-HDLC, as in ZIP, zlib and PNG).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
        var crc = ~initial
        table.withUnsafeBufferPointer { table in
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
        }
        return ~crc
    }
}
