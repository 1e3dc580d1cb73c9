import Shoal
import Foundation
import Synchronization

/// The demo's terminal: alerts and notes as lines on standard output, a
/// progress line on standard error that redraws in place on a terminal
/// (and is a plain line a second elsewhere, for logs).
final class DemoConsole: Sendable {
    private let interactive = isatty(STDERR_FILENO) != 0
    /// Whether a progress line is on screen; serializes writers.
    private let showingProgress = Mutex(false)

    func line(_ text: String) {
        showingProgress.withLock { showing in
            if showing { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            showing = false
            FileHandle.standardOutput.write(Data((text + "\n").utf8))
        }
    }

    func progress(_ text: String) {
        showingProgress.withLock { showing in
            if interactive {
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
                showing = true
            } else {
                FileHandle.standardError.write(Data((text + "\n").utf8))
            }
        }
    }

    /// Ends the progress line, so that what follows starts on its own line.
    func endProgress() {
        showingProgress.withLock { showing in
            if showing { FileHandle.standardError.write(Data("\n".utf8)) }
            showing = false
        }
    }
}

extension Int {
    /// The number with thousands separators: 12,345.
    var grouped: String {
        let digits = String(Swift.abs(self))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return (self < 0 ? "-" : "") + out
    }
}
