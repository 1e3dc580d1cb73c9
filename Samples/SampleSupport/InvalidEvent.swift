import Shoal

/// An event a sample cannot apply: it goes to the dead-letter topic at
/// once, since no retry can fix it.
public struct InvalidEvent: NonRetryableError, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
