import Foundation
import Testing
@testable import Recurrent

/// A `.npz` whose member inflates far beyond what its array needs (a zip bomb) is refused from
/// its first bytes, before it is inflated.
@Suite struct ZipBombTests {
    /// A raw deflate stream (one block of fixed Huffman codes): `prefix` as literals, then
    /// `zeros` zero bytes as copies of length 258 at distance 1 after one literal zero.
    static func deflate(prefix: [UInt8], zeros: Int) -> [UInt8] {
        var out: [UInt8] = [], bits = 0, count = 0
        func put(_ value: Int, _ n: Int) {   // n bits, least significant first
            for i in 0..<n { bits |= ((value >> i) & 1) << count; count += 1; if count == 8 { out.append(UInt8(bits)); (bits, count) = (0, 0) } }
        }
        func code(_ value: Int, _ n: Int) { for i in (0..<n).reversed() { put((value >> i) & 1, 1) } }   // Huffman codes: most significant first
        func literal(_ byte: UInt8) { byte < 144 ? code(0x30 + Int(byte), 8) : code(0x190 + Int(byte) - 144, 9) }
        put(1, 1); put(1, 2)   // final block, fixed codes
        for byte in prefix { literal(byte) }
        literal(0)
        for _ in 0..<((zeros - 1) / 258) { code(0b1100_0101, 8); code(0, 5) }   // length 258 (symbol 285), distance 1
        for _ in 0..<((zeros - 1) % 258) { literal(0) }
        code(0, 7)   // end of block
        if count > 0 { out.append(UInt8(bits)) }
        return out
    }

    /// A one-member ZIP archive whose member is deflated, with the sizes and CRC given.
    static func archive(name: String, data: [UInt8], uncompressedSize: Int, crc: UInt32) -> [UInt8] {
        var out: [UInt8] = []
        func u16(_ v: Int) { out += [UInt8(v & 0xff), UInt8(v >> 8 & 0xff)] }
        func u32(_ v: Int) { u16(v & 0xffff); u16(v >> 16 & 0xffff) }
        let nameBytes = Array(name.utf8)
        u32(0x0403_4b50); u16(20); u16(0); u16(8); u16(0); u16(0); u32(Int(crc)); u32(data.count); u32(uncompressedSize)
        u16(nameBytes.count); u16(0); out += nameBytes; out += data
        let central = out.count
        u32(0x0201_4b50); u16(20); u16(20); u16(0); u16(8); u16(0); u16(0); u32(Int(crc)); u32(data.count); u32(uncompressedSize)
        u16(nameBytes.count); u16(0); u16(0); u16(0); u16(0); u32(0); u32(0); out += nameBytes
        let size = out.count - central
        u32(0x0605_4b50); u16(0); u16(0); u16(1); u16(1); u32(size); u32(central); u16(0)
        return out
    }

    @Test func aBombIsRefusedBeforeItInflates() throws {
        // A float32 array of 4 elements (16 bytes) in a member that inflates to 20 MB.
        let header = Array(NumPy.writeNPY(Tensor([1, 2, 3, 4])).prefix(128))
        let total = 20_000_000
        let stream = Self.deflate(prefix: header, zeros: total - header.count)
        #expect(try Inflate.inflate(stream.withUnsafeBytes { UnsafeRawBufferPointer($0) }, expectedCount: total).count == total)
        let bytes = Self.archive(name: "x.npy", data: stream, uncompressedSize: total, crc: 0)
        #expect(bytes.count < 140_000)
        let path = try NumPyTests.write(bytes, name: "bomb.npz")
        let started = Date()
        #expect(message { _ = try NumPy.readNPZ(path: path) }.contains(
            "member 'x.npy': records 20000000 bytes uncompressed, but its header declares 144; not inflated"))
        #expect(Date().timeIntervalSince(started) < 0.5, "the 20 MB were not inflated")
    }

    @Test func aSizeThatLiesLowIsCaughtWhileInflating() throws {
        // The archive records the size the header declares, but the stream runs on: inflating stops there.
        let header = Array(NumPy.writeNPY(Tensor([1, 2, 3, 4])).prefix(128))
        let stream = Self.deflate(prefix: header, zeros: 5_000_000)
        let path = try NumPyTests.write(Self.archive(name: "x.npy", data: stream, uncompressedSize: 144, crc: 0), name: "lying.npz")
        #expect(message { _ = try NumPy.readNPZ(path: path) }.contains("inflates to more than the 144 bytes recorded for it"))
    }
}
