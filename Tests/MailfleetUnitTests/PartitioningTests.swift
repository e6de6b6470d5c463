import Foundation
import MailfleetCore
import Testing

@Suite struct PartitioningTests {
    @Test func partitionsAreStableAndSpread() {
        let partitioning = Partitioning(count: 8)
        var counts = [Int](repeating: 0, count: 8)
        for _ in 0..<8000 {
            let id = UUID()
            let p = partitioning.partition(of: id)
            #expect(p == partitioning.partition(of: id))
            counts[p] += 1
        }
        #expect(counts.allSatisfy { $0 > 700 && $0 < 1300 })
    }
}
