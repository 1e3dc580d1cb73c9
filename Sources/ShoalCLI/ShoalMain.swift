import Shoal
import ShoalApp

@main
enum ShoalMain {
    static func main() async {
        await ShoalCommand.main()
    }
}
