import Distributed
import Foundation
import Shoal

/// A page view for session tests.
struct PageView: Codable, Sendable {
    var key: String
    var at: EventTime
}

/// A closed session, as emitted.
struct ClosedSession: Codable, Sendable, Hashable {
    var key: String
    var start: Int64
    var end: Int64
    var views: Int
}

/// Groups a visitor's page views into sessions (ten seconds of inactivity
/// ends one) and emits each session when the watermark passes its end.
distributed actor Visit: Entity {
    typealias ActorSystem = ShoalActorSystem

    var state = EventWindows<WindowCount<PageView>>(.session(gap: .seconds(10)))

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func handle(_ view: PageView, in context: EntityContext) {
        state.add(view, at: view.at, watermark: context.watermark)
        context.scheduleClosing(of: state, timer: "sessions")
    }

    func timerFired(_ timer: EntityTimer, in context: EntityContext) throws {
        for session in state.close(at: context.watermark) {
            try context.emit(topic: "sessions-closed", key: context.key, value: ClosedSession(
                key: context.key, start: session.window.start.milliseconds, end: session.window.end.milliseconds,
                views: session.aggregate.count
            ))
        }
        context.scheduleClosing(of: state, timer: "sessions")
    }
}
