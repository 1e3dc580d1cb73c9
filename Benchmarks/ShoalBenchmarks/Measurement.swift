/// Small helpers every benchmark uses to report its figures.
extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// The middle value of a benchmark's rounds (the upper one of two).
func median(_ values: [Double]) -> Double {
    values.sorted()[values.count / 2]
}
