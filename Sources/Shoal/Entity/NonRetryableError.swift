/// An error a handler throws for an event that no retry can fix — an order
/// for a negative quantity, a reading without a sensor. A node sends the
/// record to the dead-letter topic at once, with the error as its reason,
/// instead of retrying the handler `handlerAttempts` times with back-off
/// first; thrown from ``Entity/timerFired(_:in:)``, the timer is
/// dead-lettered at once. What the handler changed before throwing is
/// undone either way.
///
/// ```swift
/// struct InvalidOrder: NonRetryableError { var reason: String }
/// guard order.quantity > 0 else { throw InvalidOrder(reason: "quantity \(order.quantity)") }
/// ```
public protocol NonRetryableError: Error {}
