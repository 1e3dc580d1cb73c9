import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP GET, for the demo's scrapes of its nodes and the tests' reads of
/// a node's endpoint. Through a completion handler, not
/// `URLSession.data(for:)`: on Linux, cancelling a task awaiting that call
/// (the demo stopping mid-scrape) can crash FoundationNetworking ("a task
/// that is not in the registry"). A continuation is never cancelled; the
/// request ends within its timeout.
package enum HTTPGet {
    package struct Response: Sendable {
        package var body: Data?
        /// 0 when nothing answered.
        package var status: Int
        package var error: (any Error)?
    }

    package static func fetch(_ url: URL, timeout: TimeInterval = 60) async -> Response {
        var request = URLRequest(url: url)
        request.timeoutInterval = timeout
        return await withCheckedContinuation { continuation in
            URLSession.shared.dataTask(with: request) { data, response, error in
                continuation.resume(returning: Response(body: data, status: (response as? HTTPURLResponse)?.statusCode ?? 0, error: error))
            }.resume()
        }
    }
}
