/// How the samples' generators plant their cases: about one per `every`
/// records, at least one of each kind from 100 records on, spread evenly
/// over the load's event time.
public enum Planting {
    /// The kinds of the cases to plant in `count` records, in turn.
    public static func kinds<Case: CaseIterable>(_ type: Case.Type, count: Int, every: Int) -> [Case] {
        let all = Array(Case.allCases)
        let cases = count >= 100 ? max(all.count, count / every) : 0
        return (0..<cases).map { all[$0 % all.count] }
    }

    /// When the `index`-th of `cases` cases starts: the middle of its share
    /// of the `duration` from `start` (milliseconds).
    public static func time(of index: Int, among cases: Int, start: Int64, duration: Int64) -> Int64 {
        start + duration * Int64(2 * index + 1) / Int64(2 * cases)
    }
}
