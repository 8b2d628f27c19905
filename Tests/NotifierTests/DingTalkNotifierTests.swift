import Crypto
import Foundation
import HuayingTestSupport
import Testing

/// `notifiers/dingtalk` run as the daemon runs it, against a robot stand-in on 127.0.0.1.
@Suite(.serialized)
struct DingTalkNotifierTests {
    static let secret = "SEC0123456789abcdef-test-secret"

    func environment(_ server: RobotServer, secret: String? = DingTalkNotifierTests.secret) -> [String: String] {
        var env = ["HUAYING_DINGTALK_ACCESS_TOKEN": "test-token", "HUAYING_DINGTALK_URL": server.baseURL]
        if let secret { env["HUAYING_DINGTALK_SECRET"] = secret }
        return env
    }

    /// DingTalk's signature computed here, independently of the plugin: HMAC-SHA256 keyed with
    /// the secret over "timestamp\nsecret", base64, then percent-encoded (+, / and = too).
    static func signature(timestamp: Int64, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp)\n\(secret)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        let base64 = Data(code).base64EncodedString()
        var unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        unreserved.insert(charactersIn: "-._~")
        return base64.addingPercentEncoding(withAllowedCharacters: unreserved)!
    }

    @Test func textMessageIsSignedAndCarriesAtMobilesUserIdsAndMsgUuid() throws {
        let server = try RobotServer()
        let state = try ScratchDirectory("dingtalk-state")
        defer { state.remove() }
        var env = environment(server)
        env["HUAYING_NOTIFIER_NOW"] = "1791000000.5"
        let result = try runNotifier("dingtalk", request: try notifierRequest(plugin: "dingtalk", key: "5/post-voter-list/1"),
                                     environment: env, in: state.path)
        #expect(result["status"] as? String == "completed", "\(result)")
        let requests = try server.requests()
        try #require(requests.count == 1)
        #expect(requests[0]["path"] as? String == "/robot/send")
        let expectedSign = Self.signature(timestamp: 1_791_000_000_500, secret: Self.secret)
        #expect(expectedSign.contains("%"), "this secret's signature has characters that must be encoded")
        #expect(requests[0]["query"] as? String == "access_token=test-token&timestamp=1791000000500&sign=\(expectedSign)")
        let expected = #"""
        {"msgtype": "text",
         "text": {"content": "【提醒】古桥社区｜张贴选民名单\n应办：2026-10-08（周四）09:00\n法定期限：2026-10-09（周五）17:00\n选民名单须在选举日 20 日前公布。\n流程 community-election-cycle，事项 #5，步骤 post-voter-list\n确认：huaying ack 12\n@13800001111 @13900002222 @dt-wanghong"},
         "at": {"atMobiles": ["13800001111", "13900002222"], "atUserIds": ["dt-wanghong"], "isAtAll": false},
         "msgUuid": "5/post-voter-list/1"}
        """#
        #expect(try canonical(requests[0]["body"]!) == canonical(json: expected))
        #expect((result["output"] as? [String: Any])?["msg_uuid"] as? String == "5/post-voter-list/1")
    }

    @Test func aRetryOfTheSameEffectSendsTheSameMsgUuid() throws {
        let server = try RobotServer()
        let state = try ScratchDirectory("dingtalk-state")
        defer { state.remove() }
        try server.reply(status: 502, raw: "bad gateway")
        let first = try runNotifier("dingtalk", request: try notifierRequest(plugin: "dingtalk", key: "9/notify/1"),
                                    environment: environment(server), in: state.path)
        #expect(first["status"] as? String == "retry")
        try server.reply(json: #"{"errcode": 0, "errmsg": "ok"}"#)
        let again = try runNotifier("dingtalk", request: try notifierRequest(plugin: "dingtalk", key: "9/notify/1"),
                                    environment: environment(server), in: state.path)
        #expect(again["status"] as? String == "completed")
        let uuids = try server.requests().map { ($0["body"] as? [String: Any])?["msgUuid"] as? String }
        #expect(uuids == ["9/notify/1", "9/notify/1"])
    }

    @Test func markdownMessageHasATitleAndMentionsInTheText() throws {
        let server = try RobotServer()
        let state = try ScratchDirectory("dingtalk-state")
        defer { state.remove() }
        let result = try runNotifier("dingtalk", request: try notifierRequest(plugin: "dingtalk", msgtype: "markdown"),
                                     environment: environment(server, secret: nil), in: state.path)
        #expect(result["status"] as? String == "completed", "\(result)")
        let requests = try server.requests()
        try #require(requests.count == 1)
        #expect(requests[0]["query"] as? String == "access_token=test-token", "no secret: no timestamp or sign")
        let expected = #"""
        {"msgtype": "markdown",
         "markdown": {"title": "【提醒】古桥社区｜张贴选民名单",
                      "text": "#### 【提醒】古桥社区｜张贴选民名单\n> 应办：2026-10-08（周四）09:00\n\n> 法定期限：2026-10-09（周五）17:00\n\n> 选民名单须在选举日 20 日前公布。\n\n> 流程 community-election-cycle，事项 #5，步骤 post-voter-list\n\n确认：`huaying ack 12`\n\n@13800001111 @13900002222 @dt-wanghong"},
         "at": {"atMobiles": ["13800001111", "13900002222"], "atUserIds": ["dt-wanghong"], "isAtAll": false},
         "msgUuid": "5/post-voter-list/1"}
        """#
        #expect(try canonical(requests[0]["body"]!) == canonical(json: expected))
    }

    @Test func digestOfEightyRemindersIsOneMessageMentioningEachPersonOnce() throws {
        let server = try RobotServer()
        let state = try ScratchDirectory("dingtalk-state")
        defer { state.remove() }
        let items: [[String: Any]] = (1...80).map { index in
            ["instance": sampleInstance(id: 100 + index, unit: "第\(index)村"), "step": sampleStep(title: "节后补报"),
             "reminder": sampleReminder(id: 1000 + index, message: "", recipients: index.isMultiple(of: 2) ? [wanghong] : [chenzhi, wanghong])]
        }
        let result = try runNotifier("dingtalk", request: try digestRequest(plugin: "dingtalk", key: "digest/lushi/7", items: items),
                                     environment: environment(server), in: state.path)
        #expect(result["status"] as? String == "completed", "\(result)")
        let requests = try server.requests()
        #expect(requests.count == 1)
        let body = try #require(requests.first?["body"] as? [String: Any])
        let markdown = try #require(body["markdown"] as? [String: Any])
        #expect(markdown["title"] as? String == "华蓥提醒汇总：共 80 条")
        let text = try #require(markdown["text"] as? String)
        let shown = try #require((result["output"] as? [String: Any])?["shown"] as? Int)
        try #require(shown >= 1, "a digest lists at least one reminder")
        for index in 1...shown { #expect(text.contains("`huaying ack \(1000 + index)`")) }
        if shown < 80 { #expect(text.contains("另有 \(80 - shown) 条未列出")) }
        let at = try #require(body["at"] as? [String: Any])
        #expect(at["atMobiles"] as? [String] == ["13900002222", "13800001111"])
        #expect(at["atUserIds"] as? [String] == ["dt-wanghong"])
        #expect(body["msgUuid"] as? String == "digest/lushi/7")
    }

    @Test func twentyMessagesAMinutePerRobot() throws {
        let server = try RobotServer()
        let state = try ScratchDirectory("dingtalk-state")
        defer { state.remove() }
        var env = environment(server)
        env["HUAYING_NOTIFIER_NOW"] = "1791000000"
        for index in 1...20 {
            let result = try runNotifier("dingtalk", request: try notifierRequest(plugin: "dingtalk", key: "k/\(index)"),
                                         environment: env, in: state.path)
            #expect(result["status"] as? String == "completed", "message \(index): \(result)")
        }
        let held = try runNotifier("dingtalk", request: try notifierRequest(plugin: "dingtalk", key: "k/21"), environment: env, in: state.path)
        #expect(held["status"] as? String == "retry")
        #expect(held["after_seconds"] as? Int == 3)
        #expect(try server.requests().count == 20)
    }
}

/// Each errcode class of both services, and the transport failures.
@Suite(.serialized)
struct NotifierErrorClassTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var plugin: String
        var httpStatus: Int
        var reply: String
        var status: String
        var afterSeconds: Int?
        var reasonContains: String
        var testDescription: String { "\(plugin) HTTP \(httpStatus) \(reply) → \(status)" }
    }

    static let cases: [Case] = [
        Case(plugin: "wecom", httpStatus: 200, reply: #"{"errcode": 0, "errmsg": "ok"}"#, status: "completed", reasonContains: ""),
        Case(plugin: "wecom", httpStatus: 200, reply: #"{"errcode": 45009, "errmsg": "api freq out of limit"}"#,
             status: "retry", afterSeconds: 60, reasonContains: "api freq out of limit"),
        Case(plugin: "wecom", httpStatus: 200, reply: #"{"errcode": 93000, "errmsg": "invalid webhook url, hint: [1700000000_1]"}"#,
             status: "failed", reasonContains: "WeCom errcode 93000: invalid webhook url"),
        Case(plugin: "wecom", httpStatus: 200, reply: #"{"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}"#,
             status: "failed", reasonContains: "exceed max length"),
        Case(plugin: "wecom", httpStatus: 200, reply: #"{"errcode": -1, "errmsg": "system busy"}"#,
             status: "retry", afterSeconds: 30, reasonContains: "system busy"),
        Case(plugin: "wecom", httpStatus: 503, reply: #""unavailable""#, status: "retry", afterSeconds: 30, reasonContains: "HTTP 503"),
        Case(plugin: "wecom", httpStatus: 429, reply: #""slow down""#, status: "retry", afterSeconds: 60, reasonContains: "HTTP 429"),
        Case(plugin: "wecom", httpStatus: 404, reply: #""no such page""#, status: "failed", reasonContains: "HTTP 404"),
        Case(plugin: "wecom", httpStatus: 200, reply: #""<html>proxy login</html>""#, status: "retry", afterSeconds: 30, reasonContains: "not JSON"),
        Case(plugin: "dingtalk", httpStatus: 200, reply: #"{"errcode": 0, "errmsg": "ok"}"#, status: "completed", reasonContains: ""),
        Case(plugin: "dingtalk", httpStatus: 200, reply: #"{"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}"#,
             status: "retry", afterSeconds: 600, reasonContains: "send too fast"),
        Case(plugin: "dingtalk", httpStatus: 200, reply: #"{"errcode": 310000, "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}"#,
             status: "failed", reasonContains: "DingTalk errcode 310000: sign not match"),
        Case(plugin: "dingtalk", httpStatus: 200, reply: #"{"errcode": 310000, "errmsg": "keywords not in content"}"#,
             status: "failed", reasonContains: "keywords not in content"),
        Case(plugin: "dingtalk", httpStatus: 200, reply: #"{"errcode": 300001, "errmsg": "token is not exist"}"#,
             status: "failed", reasonContains: "token is not exist"),
        Case(plugin: "dingtalk", httpStatus: 500, reply: #""internal error""#, status: "retry", afterSeconds: 30, reasonContains: "HTTP 500"),
    ]

    @Test(arguments: cases)
    func errcodeClass(_ example: Case) throws {
        let server = try RobotServer()
        let state = try ScratchDirectory("errcode-state")
        defer { state.remove() }
        try server.reply(status: example.httpStatus, json: example.reply)
        let env = example.plugin == "wecom"
            ? ["HUAYING_WECOM_KEY": "k", "HUAYING_WECOM_URL": server.baseURL]
            : ["HUAYING_DINGTALK_ACCESS_TOKEN": "t", "HUAYING_DINGTALK_SECRET": "SECx", "HUAYING_DINGTALK_URL": server.baseURL]
        let result = try runNotifier(example.plugin, request: try notifierRequest(plugin: example.plugin), environment: env, in: state.path)
        #expect(result["status"] as? String == example.status, "\(result)")
        #expect(result["after_seconds"] as? Int == example.afterSeconds)
        if !example.reasonContains.isEmpty {
            #expect((result["reason"] as? String)?.contains(example.reasonContains) == true, "\(result)")
        }
        #expect(try server.requests().count == 1)
    }

    @Test(arguments: ["wecom", "dingtalk"])
    func anUnreachableRobotIsRetried(_ plugin: String) throws {
        let server = try RobotServer()
        let url = server.baseURL
        server.stop()  // nothing listens on that port now
        let state = try ScratchDirectory("unreachable-state")
        defer { state.remove() }
        let env = plugin == "wecom" ? ["HUAYING_WECOM_KEY": "k", "HUAYING_WECOM_URL": url]
            : ["HUAYING_DINGTALK_ACCESS_TOKEN": "t", "HUAYING_DINGTALK_URL": url]
        let result = try runNotifier(plugin, request: try notifierRequest(plugin: plugin), environment: env, in: state.path)
        #expect(result["status"] as? String == "retry", "\(result)")
        #expect(result["after_seconds"] as? Int == 30)
        #expect((result["reason"] as? String)?.contains("cannot reach http://127.0.0.1:") == true, "\(result)")
        #expect((result["reason"] as? String)?.contains("key=") == false, "the key is never in a reason")
    }
}
