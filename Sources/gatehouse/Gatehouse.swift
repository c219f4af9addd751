import GatehouseCLI

@main
struct Gatehouse {
    static func main() async {
        await GatehouseCommand.main()
    }
}
