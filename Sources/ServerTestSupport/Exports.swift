@_exported import DomainTestSupport
@_exported import GatehouseTestSupport
