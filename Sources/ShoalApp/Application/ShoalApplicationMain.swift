import Shoal

/// Runs an application's command group.
public enum ShoalApplicationMain {
    // Written once, before the command line is parsed and before any other
    // task exists; only read afterwards. A metatype of a non-Sendable
    // protocol cannot sit in a Mutex, hence the unchecked storage.
    nonisolated(unsafe) static var registeredApplication: (any ShoalApplication.Type)?

    /// Parses the command line and runs the chosen command for `application`.
    public static func run(_ application: any ShoalApplication.Type) async {
        registeredApplication = application
        await ShoalCommand.main()
    }

    static func application(for command: String) throws -> any ShoalApplication.Type {
        guard let application = registeredApplication else {
            throw ShoalError(
                code: .configuration,
                reason: "`\(command)` needs an application: run it from an application's executable"
            )
        }
        return application
    }
}
