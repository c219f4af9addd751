import ArgumentParser
public struct GatehouseCommand: AsyncParsableCommand { public init() {} }
