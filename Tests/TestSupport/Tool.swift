import Foundation

/// Runs a command-line tool without blocking a thread of the shared concurrency pool
/// (blocked threads would starve other tests' timers); returns its status and output.
public func runTool(_ args: [String]) async throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("tool-\(UUID().uuidString)").path
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: outPath) }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    p.standardOutput = handle
    p.standardError = handle
    p.standardInput = FileHandle.nullDevice
    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
        p.terminationHandler = { _ in c.resume() }
        do { try spawn(p) } catch {
            p.terminationHandler = nil
            c.resume()
        }
    }
    try? handle.close()
    let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    return (p.processIdentifier == 0 ? -1 : p.terminationStatus, output)
}

/// Every process the tests start is spawned under this one lock: Foundation's
/// `Process.run()` on Linux was seen to crash (a bad `memcpy` inside it) while other
/// threads spawned processes at the same moment.
let spawnLock = NSLock()

/// Starts `process`, one spawn at a time across the whole test run.
public func spawn(_ process: Process) throws {
    spawnLock.lock()
    defer { spawnLock.unlock() }
    try process.run()
}
