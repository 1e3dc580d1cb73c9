/// One rule firing on one key (for the fraud sample, also on which kind of
/// subject): what a sample's alerts are compared by with its planted cases.
public struct Finding: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var rule: String
    public var subject: String?
    public var key: String

    public init(rule: String, subject: String? = nil, key: String) {
        self.rule = rule
        self.subject = subject
        self.key = key
    }

    public static func < (left: Finding, right: Finding) -> Bool { left.description < right.description }

    public var description: String { [rule, subject, key].compactMap { $0 }.joined(separator: " ") }
}
