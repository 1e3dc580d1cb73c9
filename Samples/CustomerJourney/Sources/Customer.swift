import Distributed
import SampleSupport
import Shoal

/// One customer: web sessions (closed `sessionGap` after the last web
/// event, on event time, with a summary each), and the pattern "cart
/// abandoned, then a support ticket within 30 minutes", which earns an
/// offer. An abandonment is only known when its session closes, a gap
/// after the customer left, so a ticket is kept at least that long
/// (the pattern's allowed lateness) to meet an abandonment found later.
distributed actor Customer: Entity {
    typealias ActorSystem = ShoalActorSystem

    /// What an abandoned cart leaves for the pattern.
    struct Abandonment: Codable, Sendable, Hashable {
        var items: Int
    }

    struct State: Codable, Sendable {
        var sessions = EventWindows<SessionActivity>(.session(gap: JourneyRules.sessionGap))
        var abandonedThenTicket = FollowedBy<Abandonment, String>(
            within: JourneyRules.offerWithin, allowedLateness: JourneyRules.sessionGap
        )
        /// The customer's tier in the CRM, as of their last event.
        var tier: String?
    }

    static let sessionTimer = "sessions"

    var state = State()
    static var stateTimeToLive: Duration? { JourneyRules.stateTimeToLive }

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func handle(_ event: JourneyEvent, in context: EntityContext) throws {
        // Read with each event (and journaled with it): an offer made when a
        // session closes on a timer uses the tier the last event saw.
        // A profile that does not decode counts as none: the journey goes on.
        state.tier = (try? context.lookup(context.key, in: CustomerJourney.profiles, as: CustomerProfile.self))?.tier
        // Sessions this event's clock ends close first: their abandonment
        // must meet a ticket before `expire` below drops the ticket (the
        // session timer would fire only after this handler).
        try closeSessions(in: context)
        if event.isWebEvent {
            try track(event, in: context)
        } else if let match = state.abandonedThenTicket.addSecond(event.id, at: event.at) {
            try offer(match, in: context)
        }
        state.abandonedThenTicket.expire(at: context.watermark)
    }

    func timerFired(_ timer: EntityTimer, in context: EntityContext) throws {
        guard timer.name == Self.sessionTimer else { return }
        try closeSessions(in: context)
        state.abandonedThenTicket.expire(at: context.watermark)
        context.scheduleClosing(of: state.sessions, timer: Self.sessionTimer)
    }

    /// Closes the sessions the watermark passed: a summary each, and an
    /// abandonment waiting for a ticket when the cart was left full.
    private func closeSessions(in context: EntityContext) throws {
        for closed in state.sessions.close(at: context.watermark) {
            try summarize(closed, in: context)
            guard closed.aggregate.isAbandoned, let left = closed.aggregate.last else { continue }
            let abandonment = Abandonment(items: closed.aggregate.itemsLeft)
            if let match = state.abandonedThenTicket.addFirst(abandonment, at: left) {
                try offer(match, in: context)
            }
        }
    }

    private func track(_ event: JourneyEvent, in context: EntityContext) throws {
        if event.kind == .cartAdd || event.kind == .cartRemove, (event.quantity ?? 1) <= 0 {
            throw InvalidEvent("\(event.kind.rawValue) \(event.id) needs a positive quantity")
        }
        if !state.sessions.add(event, at: event.at, watermark: context.watermark) {
            context.logger.debug("web event for a session already closed", metadata: ["event": "\(event.id)"])
        }
        context.scheduleClosing(of: state.sessions, timer: Self.sessionTimer)
    }

    private func summarize(_ closed: EventWindows<SessionActivity>.Open, in context: EntityContext) throws {
        let activity = closed.aggregate
        let start = activity.first ?? closed.window.start
        let end = activity.last ?? closed.window.start
        try context.emit(topic: CustomerJourney.sessions, key: context.key, value: SessionSummary(
            key: context.key, start: start, end: end, events: activity.events, pageViews: activity.pageViews,
            itemsAdded: activity.itemsAdded, itemsRemoved: activity.itemsRemoved, checkouts: activity.checkouts,
            outcome: activity.outcome, detail: activity.detail(lasting: end - start)
        ))
    }

    private func offer(_ match: FollowedBy<Abandonment, String>.Match, in context: EntityContext) throws {
        let minutes = Int(((match.second.at - match.first.at) / .seconds(60)).rounded(.down))
        try context.emit(topic: CustomerJourney.offers, key: context.key, value: Offer(
            key: context.key, ticket: match.second.value, abandonedAt: match.first.at, ticketAt: match.second.at,
            items: match.first.value.items,
            detail: "ticket \(match.second.value) \(minutes) min after leaving \(pluralized(match.first.value.items, "unit")) in the cart: offer free shipping"
                + (state.tier == "gold" ? " and a gold customer's voucher" : "")
        ))
    }
}
