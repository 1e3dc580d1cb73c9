import Shoal

@main
enum ShoalMain {
    static func main() async {
        await ShoalCommand.main()
    }
}
