import Shoal

/// What a session window keeps of its web events: counts, and the first
/// and last event's time. Every field adds up or takes a minimum or a
/// maximum, so two sessions that merge (a late event bridging them) sum up
/// to what one session of all their events would.
struct SessionActivity: WindowAggregate, Hashable {
    var events = 0
    var pageViews = 0
    var itemsAdded = 0
    var itemsRemoved = 0
    var checkouts = 0
    var first: EventTime?
    var last: EventTime?

    init() {}

    mutating func add(_ event: JourneyEvent) {
        events += 1
        switch event.kind {
        case .click: pageViews += 1
        case .cartAdd: itemsAdded += event.quantity ?? 1
        case .cartRemove: itemsRemoved += event.quantity ?? 1
        case .checkout: checkouts += 1
        case .ticket: break
        }
        first = min(first ?? event.at, event.at)
        last = max(last ?? event.at, event.at)
    }

    mutating func merge(_ other: SessionActivity) {
        events += other.events
        pageViews += other.pageViews
        itemsAdded += other.itemsAdded
        itemsRemoved += other.itemsRemoved
        checkouts += other.checkouts
        first = [first, other.first].compactMap { $0 }.min()
        last = [last, other.last].compactMap { $0 }.max()
    }

    /// Units put in the cart and not taken out.
    var itemsLeft: Int { max(0, itemsAdded - itemsRemoved) }

    /// Abandoned: the session closed with units left in the cart and no
    /// checkout in it.
    var isAbandoned: Bool { itemsLeft > 0 && checkouts == 0 }

    var outcome: SessionOutcome { checkouts > 0 ? .checkedOut : isAbandoned ? .abandoned : .browsed }
}

extension SessionActivity {
    /// What a summary says: the outcome, then what happened.
    func detail(lasting duration: Duration) -> String {
        let minutes = Int((duration / .seconds(60)).rounded())
        let shape = "\(pluralized(events, "event")) in \(minutes) min, \(pluralized(pageViews, "page"))"
        switch outcome {
        case .checkedOut: return "checked out: \(shape), \(pluralized(itemsLeft, "unit")) bought"
        case .abandoned: return "abandoned: \(shape), \(pluralized(itemsLeft, "unit")) left in the cart"
        case .browsed: return "browsed: \(shape)"
        }
    }
}

/// How a session ended.
enum SessionOutcome: String, Codable, Sendable, Hashable {
    /// At least one checkout.
    case checkedOut = "checked-out"
    /// Units left in the cart, no checkout.
    case abandoned
    /// Neither.
    case browsed
}

/// "1 unit", "3 units".
func pluralized(_ number: Int, _ noun: String) -> String {
    "\(number) \(noun)\(number == 1 ? "" : "s")"
}
