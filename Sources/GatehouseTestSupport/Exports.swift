@_exported import DomainTestSupport
