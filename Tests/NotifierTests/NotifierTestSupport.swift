import Foundation
import HuayingTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The checkout (three levels above this file).
let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// One run of a notifier executable: the request on stdin, cwd in `directory` (as the
/// daemon runs it in its state directory), only `environment` plus PATH.
/// - Returns: the one result object it printed.
func runNotifier(_ name: String, request: String, environment: [String: String], in directory: String) throws -> [String: Any] {
    let requestPath = directory + "/request-\(UUID().uuidString).json"
    try request.write(toFile: requestPath, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: requestPath) }
    let executable = checkout + "/notifiers/\(name)/\(name)"
    var env = environment
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    let result = try runProgram("/bin/sh", ["-c", #"cd "$1" && exec "$2" < "$3""#, "sh", directory, executable, requestPath],
                                environment: env, timeout: 60)
    #expect(result.status == 0, "exit status \(result.status); stderr: \(result.stderr)")
    let lines = result.stdout.split(separator: "\n")
    #expect(lines.count == 1, "expected exactly one result line, got: \(result.stdout)")
    let object = try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8))
    return try #require(object as? [String: Any], "not a JSON object: \(result.stdout)")
}

/// JSON text with sorted keys, so two bodies compare as text and a failure shows both.
func canonical(_ object: Any) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
}

func canonical(json text: String) throws -> String {
    try canonical(try JSONSerialization.jsonObject(with: Data(text.utf8)))
}

/// A request as the daemon writes it (docs/plugins.md, "Notifiers").
func notifierRequest(plugin: String, key: String = "5/post-voter-list/1", msgtype: String? = "text",
                     reminder: [String: Any] = sampleReminder(), step: [String: Any] = sampleStep(),
                     instance: [String: Any] = sampleInstance()) throws -> String {
    var request: [String: Any] = [
        "protocol": 1, "plugin": plugin, "idempotency_key": key, "attempt": 1,
        "instance": instance, "step": step, "reminder": reminder,
    ]
    if let msgtype { request["with"] = ["msgtype": msgtype] }
    return try canonical(request)
}

/// A digest request: `reminders: [{instance, step, reminder}, …]`.
func digestRequest(plugin: String, key: String = "digest/wecom-guqiao/1", items: [[String: Any]]) throws -> String {
    try canonical(["protocol": 1, "plugin": plugin, "idempotency_key": key, "attempt": 1, "with": [:] as [String: Any],
                   "reminders": items] as [String: Any])
}

func sampleInstance(id: Int = 5, unit: String = "古桥社区") -> [String: Any] {
    ["id": id, "workflow": "community-election-cycle", "version": 3,
     "unit": ["id": "guqiao-shequ", "name": unit, "kind": "community"]]
}

func sampleStep(id: String = "post-voter-list", title: String = "张贴选民名单") -> [String: Any] {
    ["id": id, "title": title, "due": "2026-10-08T09:00", "deadline": "2026-10-09T17:00"]
}

var wanghong: [String: Any] { ["user": "wanghong", "name": "王红", "mobile": "13800001111",
                               "wecom_userid": "WangHong", "dingtalk_userid": "dt-wanghong"] }
var chenzhi: [String: Any] { ["user": "chenzhi", "name": "陈志", "mobile": "13900002222"] }

func sampleReminder(id: Int = 12, level: Int = 0, message: String = "选民名单须在选举日 20 日前公布。",
                    recipients: [[String: Any]] = [wanghong, chenzhi],
                    unacknowledged: [[String: Any]]? = nil) -> [String: Any] {
    var reminder: [String: Any] = ["id": id, "level": level, "message": message, "recipients": recipients]
    if let unacknowledged { reminder["unacknowledged"] = unacknowledged }
    return reminder
}
