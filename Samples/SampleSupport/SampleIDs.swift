/// `prefix-` and `number` zero-padded to `width` digits (`acct-0000042`):
/// ids that sort in the order they were numbered.
public func paddedID(_ prefix: String, _ number: Int, width: Int = 7) -> String {
    let digits = String(number)
    return prefix + "-" + String(repeating: "0", count: max(0, width - digits.count)) + digits
}
