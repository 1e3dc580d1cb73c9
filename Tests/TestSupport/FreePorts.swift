#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The first of `count` consecutive TCP ports that nothing listens on now,
/// for a process that must be told its ports (the demo's nodes). Drawn
/// below the kernel's ephemeral range (32768 and up on Linux), where the
/// embedded broker's listeners and every outgoing connection take theirs:
/// a port drawn from inside it was once already taken.
public func freePorts(_ count: Int, in range: ClosedRange<Int> = 20_000...32_000) -> Int {
    while true {
        let first = Int.random(in: range.lowerBound...(range.upperBound - count))
        if (first..<(first + count)).allSatisfy(isFree) { return first }
    }
}

private func isFree(_ port: Int) -> Bool {
    #if canImport(Glibc)
    let stream = Int32(SOCK_STREAM.rawValue)
    #else
    let stream = SOCK_STREAM
    #endif
    let descriptor = socket(AF_INET, stream, 0)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr = in_addr(s_addr: INADDR_ANY)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return bound == 0
}
