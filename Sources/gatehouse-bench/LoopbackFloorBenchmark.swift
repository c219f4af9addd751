import Foundation

#if canImport(Glibc)
import CNIOLinux  // sys/epoll.h, which Glibc's module leaves out
import Glibc
#endif

/// What the wake-up benchmark cannot beat on this machine: the kernel alone delivering one answer to each of N held
/// loopback connections. No HTTP, no framework, no database: two writer threads (as the server has two event loops)
/// each `write` a ready buffer of the answer's size to their half of the sockets, and one reader thread reads them
/// all with `epoll`, stamping when each connection's last byte arrives, the way the wake-up client does.
struct LoopbackFloorBenchmark: Sendable {
    let connections: Int
    let rounds: Int
    /// Bytes per answer: about the size of a long-poll's answer (head and approval JSON).
    let bytes: Int
    let writers: Int

    struct Round: Sendable {
        let round: Int
        let latency: LatencySummary
    }

    func run() throws -> [Round] {
        let listener = try Self.listener()
        defer { close(listener.fd) }
        var pairs: [(server: Int32, client: Int32)] = []
        defer { for pair in pairs { close(pair.server); close(pair.client) } }
        for _ in 0..<connections {
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard client >= 0 else { throw BenchError.failed("socket: \(String(cString: strerror(errno)))") }
            var address = listener.address
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw BenchError.failed("connect: \(String(cString: strerror(errno)))") }
            let server = accept(listener.fd, nil, nil)
            guard server >= 0 else { throw BenchError.failed("accept: \(String(cString: strerror(errno)))") }
            var one: Int32 = 1
            setsockopt(server, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
            pairs.append((server, client))
        }
        let poll = epoll_create1(0)
        guard poll >= 0 else { throw BenchError.failed("epoll_create1: \(String(cString: strerror(errno)))") }
        defer { close(poll) }
        for (index, pair) in pairs.enumerated() {
            var event = epoll_event()
            event.events = EPOLLIN.rawValue
            event.data.u64 = UInt64(index)
            epoll_ctl(poll, EPOLL_CTL_ADD, pair.client, &event)
        }
        let answer = [UInt8](repeating: UInt8(ascii: "x"), count: bytes)
        var results: [Round] = []
        for round in 1...rounds {
            results.append(Round(round: round, latency: try deliver(answer, pairs: pairs, poll: poll)))
            usleep(100_000)
        }
        return results
    }

    private func deliver(_ answer: [UInt8], pairs: [(server: Int32, client: Int32)], poll: Int32) throws -> LatencySummary {
        let servers = pairs.map(\.server)
        let writers = writers
        let start = DispatchTime.now().uptimeNanoseconds
        let done = DispatchGroup()
        for writer in 0..<writers {
            let thread = Thread {
                for index in stride(from: writer, to: servers.count, by: writers) {
                    _ = answer.withUnsafeBytes { write(servers[index], $0.baseAddress, $0.count) }
                }
                done.leave()
            }
            done.enter()
            thread.start()
        }
        var received = [Int](repeating: 0, count: pairs.count)
        var latencies: [Int64] = []
        latencies.reserveCapacity(pairs.count)
        var events = [epoll_event](repeating: epoll_event(), count: 128)
        var buffer = [UInt8](repeating: 0, count: 16_384)
        let deadline = start + 10_000_000_000
        while latencies.count < pairs.count, DispatchTime.now().uptimeNanoseconds < deadline {
            let ready = epoll_wait(poll, &events, Int32(events.count), 1_000)
            for event in events.prefix(Int(max(ready, 0))) {
                let index = Int(event.data.u64)
                let before = received[index]
                while true {
                    let count = buffer.withUnsafeMutableBytes { read(pairs[index].client, $0.baseAddress, $0.count) }
                    if count <= 0 { break }
                    received[index] += count
                }
                if before < bytes, received[index] >= bytes {
                    latencies.append(Int64(DispatchTime.now().uptimeNanoseconds - start))
                }
            }
        }
        done.wait()
        guard latencies.count == pairs.count else {
            throw BenchError.failed("loopback floor: \(latencies.count) of \(pairs.count) answers arrived within 10 s")
        }
        return LatencySummary(nanoseconds: latencies)
    }

    private static func listener() throws -> (fd: Int32, address: sockaddr_in) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError.failed("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0, listen(fd, 4_096) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw BenchError.failed("listen on 127.0.0.1: \(String(cString: strerror(errno)))") }
        return (fd, address)
    }
}

extension LoopbackFloorBenchmark.Round {
    func printReport(connections: Int, bytes: Int) {
        let ms = LatencySummary.ms
        print("loopback floor round \(round): \(connections) connections × \(bytes) bytes, all read in \(ms(latency.max)) ms"
            + "   p50 \(ms(latency.p50)) ms   p90 \(ms(latency.p90)) ms   p99 \(ms(latency.p99)) ms")
        print(#"{"bench":"loopback-floor","round":\#(round),"connections":\#(connections),"bytes":\#(bytes),"#
            + #""p50_ms":\#(ms(latency.p50)),"p90_ms":\#(ms(latency.p90)),"p99_ms":\#(ms(latency.p99)),"max_ms":\#(ms(latency.max))}"#)
    }
}
