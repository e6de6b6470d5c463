/// A GIF read as the format says (GIF89a, its blocks and LZW data), so the test knows a
/// decoder would show the pixel rather than that its bytes look right.
struct GIFImage {
    var width: Int
    var height: Int
    /// Colour-table indices, one per pixel.
    var pixels: [Int]

    init?(_ bytes: [UInt8]) {
        var at = 0
        func byte() -> Int? {
            guard at < bytes.count else { return nil }
            defer { at += 1 }
            return Int(bytes[at])
        }
        func word() -> Int? { byte().flatMap { low in byte().map { low | $0 << 8 } } }
        func skip(_ n: Int) -> Bool { at += n; return at <= bytes.count }
        func subBlocks() -> [UInt8]? {
            var data: [UInt8] = []
            while let size = byte() {
                if size == 0 { return data }
                guard at + size <= bytes.count else { return nil }
                data += bytes[at..<at + size]
                at += size
            }
            return nil
        }
        guard bytes.count > 13, String(decoding: bytes[0..<6], as: UTF8.self) == "GIF89a" || String(decoding: bytes[0..<6], as: UTF8.self) == "GIF87a" else { return nil }
        at = 6
        guard let screenWidth = word(), let screenHeight = word(), let flags = byte(), skip(2) else { return nil }
        if flags & 0x80 != 0, !skip(3 << ((flags & 7) + 1)) { return nil }
        while let introducer = byte() {
            switch introducer {
            case 0x21:  // an extension: its label, then sub-blocks
                guard byte() != nil, subBlocks() != nil else { return nil }
            case 0x2C:  // the image
                guard skip(4), let w = word(), let h = word(), let imageFlags = byte() else { return nil }
                if imageFlags & 0x80 != 0, !skip(3 << ((imageFlags & 7) + 1)) { return nil }
                guard let minimum = byte(), let data = subBlocks(), let pixels = Self.lzw(data, minimumCodeSize: minimum),
                      pixels.count >= w * h, byte() == 0x3B else { return nil }
                guard w <= screenWidth, h <= screenHeight else { return nil }
                self.init(width: w, height: h, pixels: Array(pixels.prefix(w * h)))
                return
            default:
                return nil
            }
        }
        return nil
    }

    init(width: Int, height: Int, pixels: [Int]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// GIF's variable-length LZW, codes packed least significant bit first.
    static func lzw(_ data: [UInt8], minimumCodeSize: Int) -> [Int]? {
        let clear = 1 << minimumCodeSize, end = clear + 1
        var table: [[Int]] = [], size = minimumCodeSize + 1
        func reset() {
            table = (0..<clear).map { [$0] } + [[], []]
            size = minimumCodeSize + 1
        }
        reset()
        var output: [Int] = [], previous: [Int]? = nil, bit = 0
        while bit + size <= data.count * 8 {
            var code = 0
            for i in 0..<size where data[(bit + i) / 8] & (1 << ((bit + i) % 8)) != 0 { code |= 1 << i }
            bit += size
            if code == clear { reset(); previous = nil; continue }
            if code == end { return output }
            let entry: [Int]
            if code < table.count, !table[code].isEmpty {
                entry = table[code]
                if let previous { table.append(previous + [entry[0]]) }
            } else if let previous, code == table.count {
                entry = previous + [previous[0]]
                table.append(entry)
            } else {
                return nil
            }
            output += entry
            previous = entry
            if table.count == 1 << size, size < 12 { size += 1 }
        }
        return nil
    }
}
