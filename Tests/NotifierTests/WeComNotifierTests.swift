import Foundation
import HuayingTestSupport
import Testing

/// `notifiers/wecom` run as the daemon runs it, against a robot stand-in on 127.0.0.1.
@Suite(.serialized)
struct WeComNotifierTests {
    func environment(_ server: RobotServer, key: String = "test-key-1") -> [String: String] {
        ["HUAYING_WECOM_KEY": key, "HUAYING_WECOM_URL": server.baseURL]
    }

    @Test func textMessageBodyIsExactWithMobileAndUserMentions() throws {
        let server = try RobotServer()
        let state = try ScratchDirectory("wecom-state")
        defer { state.remove() }
        let reminder = sampleReminder(level: 1, recipients: [wanghong, chenzhi],
                                      unacknowledged: [["user": "zhangsan", "name": "张三", "since": "2026-10-08T09:00"]])
        let result = try runNotifier("wecom", request: try notifierRequest(plugin: "wecom", reminder: reminder),
                                     environment: environment(server), in: state.path)
        #expect(result["status"] as? String == "completed", "\(result)")
        let requests = try server.requests()
        try #require(requests.count == 1)
        #expect(requests[0]["path"] as? String == "/cgi-bin/webhook/send")
        #expect(requests[0]["query"] as? String == "key=test-key-1")
        #expect(requests[0]["content_type"] as? String == "application/json; charset=utf-8")
        let expected = #"""
        {"msgtype": "text", "text": {
          "content": "【督办·第1级】古桥社区｜张贴选民名单\n应办：2026-10-08（周四）09:00\n法定期限：2026-10-09（周五）17:00\n选民名单须在选举日 20 日前公布。\n尚未确认：张三（自 2026-10-08（周四）09:00 起）\n流程 community-election-cycle，事项 #5，步骤 post-voter-list\n确认：huaying ack 12",
          "mentioned_list": ["WangHong"],
          "mentioned_mobile_list": ["13800001111", "13900002222"]}}
        """#
        #expect(try canonical(requests[0]["body"]!) == canonical(json: expected))
        let output = try #require(result["output"] as? [String: Any])
        #expect(output["mentioned"] as? Int == 3)
        #expect(output["truncated"] as? Bool == false)
        #expect(output["reminders"] as? [Int] == [12])
    }

    @Test func markdownMessageMentionsUserIdsInsideTheContent() throws {
        let server = try RobotServer()
        let state = try ScratchDirectory("wecom-state")
        defer { state.remove() }
        let result = try runNotifier("wecom", request: try notifierRequest(plugin: "wecom", msgtype: "markdown"),
                                     environment: environment(server), in: state.path)
        #expect(result["status"] as? String == "completed", "\(result)")
        let requests = try server.requests()
        try #require(requests.count == 1)
        // WeCom markdown has no mentioned_mobile_list: only <@userid> in the content.
        let expected = #"""
        {"msgtype": "markdown", "markdown": {
          "content": "### 【提醒】古桥社区｜张贴选民名单\n> 应办：2026-10-08（周四）09:00\n> 法定期限：<font color=\"warning\">2026-10-09（周五）17:00</font>\n> 选民名单须在选举日 20 日前公布。\n> 流程 community-election-cycle，事项 #5，步骤 post-voter-list\n确认：`huaying ack 12`\n<@WangHong>"}}
        """#
        #expect(try canonical(requests[0]["body"]!) == canonical(json: expected))
    }

    @Test func digestOfTwoRemindersIsOneMarkdownMessage() throws {
        let server = try RobotServer()
        let state = try ScratchDirectory("wecom-state")
        defer { state.remove() }
        let items: [[String: Any]] = [
            ["instance": sampleInstance(), "step": sampleStep(), "reminder": sampleReminder()],
            ["instance": sampleInstance(id: 6, unit: "杜家坪社区"), "step": sampleStep(title: "公布选举日"),
             "reminder": sampleReminder(id: 13, level: 2, recipients: [wanghong],
                                        unacknowledged: [["user": "zhangsan", "name": "张三", "since": "2026-10-08T09:00"]])],
        ]
        let result = try runNotifier("wecom", request: try digestRequest(plugin: "wecom", items: items),
                                     environment: environment(server), in: state.path)
        #expect(result["status"] as? String == "completed", "\(result)")
        let requests = try server.requests()
        try #require(requests.count == 1)
        let expected = #"""
        {"msgtype": "markdown", "markdown": {"content": "### 华蓥提醒汇总：共 2 条\n\n**1. 【提醒】古桥社区｜张贴选民名单**\n> 应办：2026-10-08（周四）09:00\n> 法定期限：<font color=\"warning\">2026-10-09（周五）17:00</font>\n> 选民名单须在选举日 20 日前公布。\n> 流程 community-election-cycle，事项 #5，步骤 post-voter-list\n> 确认：`huaying ack 12`\n\n**2. 【督办·第2级】杜家坪社区｜公布选举日**\n> 应办：2026-10-08（周四）09:00\n> 法定期限：<font color=\"warning\">2026-10-09（周五）17:00</font>\n> 选民名单须在选举日 20 日前公布。\n> <font color=\"warning\">尚未确认：张三（自 2026-10-08（周四）09:00 起）</font>\n> 流程 community-election-cycle，事项 #6，步骤 post-voter-list\n> 确认：`huaying ack 13`\n<@WangHong>"}}
        """#
        #expect(try canonical(requests[0]["body"]!) == canonical(json: expected))
        #expect((result["output"] as? [String: Any])?["reminders"] as? [Int] == [12, 13])
    }

    @Test func digestOfEightyRemindersFitsOneMessageOfAtMost4096Bytes() throws {
        let server = try RobotServer()
        let state = try ScratchDirectory("wecom-state")
        defer { state.remove() }
        let items: [[String: Any]] = (1...80).map { index in
            ["instance": sampleInstance(id: 100 + index, unit: "第\(index)村"), "step": sampleStep(title: "节后补报第\(index)项"),
             "reminder": sampleReminder(id: 1000 + index, message: "节后第一个工作日请补报。", recipients: [wanghong])]
        }
        let result = try runNotifier("wecom", request: try digestRequest(plugin: "wecom", items: items),
                                     environment: environment(server), in: state.path)
        #expect(result["status"] as? String == "completed", "\(result)")
        let requests = try server.requests()
        #expect(requests.count == 1, "80 reminders for one robot are one message")
        let body = try #require(requests.first?["body"] as? [String: Any])
        #expect(body["msgtype"] as? String == "markdown")
        let content = try #require((body["markdown"] as? [String: Any])?["content"] as? String)
        #expect(content.utf8.count <= 4096)
        #expect(content.hasPrefix("### 华蓥提醒汇总：共 80 条\n"))
        let output = try #require(result["output"] as? [String: Any])
        let shown = try #require(output["shown"] as? Int)
        try #require(shown > 5 && shown < 80)
        // Whole items in order, each with its ack command, then how many were left out.
        for index in 1...shown { #expect(content.contains("`huaying ack \(1000 + index)`"), "item \(index)") }
        #expect(!content.contains("huaying ack \(1000 + shown + 1)"))
        #expect(content.contains("另有 \(80 - shown) 条未列出"))
        #expect(content.hasSuffix("\n<@WangHong>"), "the mention comes once, at the end")
        #expect(content.components(separatedBy: "<@WangHong>").count == 2)
        #expect(output["truncated"] as? Bool == true)
    }

    @Test func longTextIsCutOnACharacterBoundaryKeepingTheAckCommand() throws {
        let server = try RobotServer()
        let state = try ScratchDirectory("wecom-state")
        defer { state.remove() }
        let long = String(repeating: "请各村于节后第一个工作日上报。", count: 200)  // ~9,000 bytes
        for msgtype in ["text", "markdown"] {
            let request = try notifierRequest(plugin: "wecom", msgtype: msgtype, reminder: sampleReminder(message: long))
            let result = try runNotifier("wecom", request: request, environment: environment(server), in: state.path)
            #expect(result["status"] as? String == "completed", "\(result)")
            #expect((result["output"] as? [String: Any])?["truncated"] as? Bool == true)
        }
        let requests = try server.requests()
        try #require(requests.count == 2)
        let text = try #require(((requests[0]["body"] as? [String: Any])?["text"] as? [String: Any])?["content"] as? String)
        let markdown = try #require(((requests[1]["body"] as? [String: Any])?["markdown"] as? [String: Any])?["content"] as? String)
        #expect(text.utf8.count <= 2048 && text.utf8.count > 1900)
        #expect(markdown.utf8.count <= 4096 && markdown.utf8.count > 3900)
        for content in [text, markdown] {
            #expect(content.contains("…（已截断：超过企业微信"))
            #expect(content.hasPrefix("【提醒】古桥社区｜张贴选民名单") || content.hasPrefix("### 【提醒】"))
            #expect(content.contains("huaying ack 12"), "the ack command survives the cut")
            // The JSON was valid UTF-8 (it parsed); no replacement character from a split sequence.
            #expect(!content.contains("\u{FFFD}"))
        }
    }

    @Test func twentyMessagesAMinutePerRobotThenRetryUntilATokenIsBack() throws {
        let server = try RobotServer()
        let state = try ScratchDirectory("wecom-state")
        defer { state.remove() }
        let now = 1_791_000_000.0
        var env = environment(server)
        env["HUAYING_NOTIFIER_NOW"] = String(now)
        for index in 1...20 {
            let result = try runNotifier("wecom", request: try notifierRequest(plugin: "wecom", key: "k/\(index)"),
                                         environment: env, in: state.path)
            #expect(result["status"] as? String == "completed", "message \(index): \(result)")
        }
        let held = try runNotifier("wecom", request: try notifierRequest(plugin: "wecom", key: "k/21"), environment: env, in: state.path)
        #expect(held["status"] as? String == "retry")
        #expect(held["after_seconds"] as? Int == 3, "one token comes back every 60/20 s")
        #expect((held["reason"] as? String)?.contains("20 messages per minute") == true)
        #expect(try server.requests().count == 20, "the 21st never reached the robot")

        // Another robot has its own bucket.
        let other = try runNotifier("wecom", request: try notifierRequest(plugin: "wecom", key: "k/other"),
                                    environment: env.merging(["HUAYING_WECOM_KEY": "test-key-2"]) { $1 }, in: state.path)
        #expect(other["status"] as? String == "completed")

        env["HUAYING_NOTIFIER_NOW"] = String(now + 3)
        let later = try runNotifier("wecom", request: try notifierRequest(plugin: "wecom", key: "k/21"), environment: env, in: state.path)
        #expect(later["status"] as? String == "completed", "\(later)")
        #expect(try server.requests().count == 22)
        #expect(FileManager.default.fileExists(atPath: state.path + "/wecom-rate.json"))
    }

    @Test func concurrentRunsShareOneBucketThroughTheLock() throws {
        let server = try RobotServer()
        let state = try ScratchDirectory("wecom-state")
        defer { state.remove() }
        var env = environment(server)
        env["HUAYING_NOTIFIER_NOW"] = "1791000000"
        env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
        let executable = checkout + "/notifiers/wecom/wecom"
        let runs = 30
        var children: [ChildProcess] = []
        for index in 0..<runs {
            let request = state.path + "/request-\(index).json"
            try notifierRequest(plugin: "wecom", key: "c/\(index)").write(toFile: request, atomically: true, encoding: .utf8)
            children.append(try ChildProcess(executable: "/bin/sh", arguments: ["-c", #"cd "$1" && exec "$2" < "$3""#, "sh", state.path, executable, request],
                                             environment: env, stdoutPath: state.path + "/result-\(index).json"))
        }
        for child in children { #expect(child.wait(seconds: 120)) }
        let statuses = try (0..<runs).map { index -> String in
            let text = try String(contentsOfFile: state.path + "/result-\(index).json", encoding: .utf8)
            return ((try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["status"] as? String) ?? text
        }
        #expect(statuses.filter { $0 == "completed" }.count == 20, "\(statuses)")
        #expect(statuses.filter { $0 == "retry" }.count == runs - 20, "\(statuses)")
        #expect(try server.requests().count == 20)
    }

    @Test func rateLimitErrcodeHoldsTheRobotForAWholeWindow() throws {
        let server = try RobotServer()
        let state = try ScratchDirectory("wecom-state")
        defer { state.remove() }
        var env = environment(server)
        env["HUAYING_NOTIFIER_NOW"] = "1791000000"
        try server.reply(json: #"{"errcode": 45009, "errmsg": "api freq out of limit"}"#)
        let first = try runNotifier("wecom", request: try notifierRequest(plugin: "wecom"), environment: env, in: state.path)
        #expect(first["status"] as? String == "retry")
        #expect(first["after_seconds"] as? Int == 60)
        #expect((first["reason"] as? String)?.contains("45009") == true)

        try server.reply(json: #"{"errcode": 0, "errmsg": "ok"}"#)
        env["HUAYING_NOTIFIER_NOW"] = "1791000030"
        let second = try runNotifier("wecom", request: try notifierRequest(plugin: "wecom"), environment: env, in: state.path)
        #expect(second["status"] as? String == "retry", "still inside the window the service asked for")
        #expect(second["after_seconds"] as? Int == 30)
        #expect(try server.requests().count == 1)

        env["HUAYING_NOTIFIER_NOW"] = "1791000060"
        let third = try runNotifier("wecom", request: try notifierRequest(plugin: "wecom"), environment: env, in: state.path)
        #expect(third["status"] as? String == "completed")
    }

    @Test func aWholeWebhookURLGivenAsTheKeyFailsWithoutSending() throws {
        let server = try RobotServer()
        let state = try ScratchDirectory("wecom-state")
        defer { state.remove() }
        let missing = try runNotifier("wecom", request: try notifierRequest(plugin: "wecom"),
                                      environment: ["HUAYING_WECOM_URL": server.baseURL], in: state.path)
        #expect(missing["status"] as? String == "failed")
        #expect((missing["reason"] as? String)?.contains("HUAYING_WECOM_KEY is not set") == true)
        let pasted = try runNotifier("wecom", request: try notifierRequest(plugin: "wecom"),
                                     environment: environment(server, key: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"),
                                     in: state.path)
        #expect(pasted["status"] as? String == "failed")
        #expect((pasted["reason"] as? String)?.contains("not the whole webhook URL") == true
            || (pasted["reason"] as? String)?.contains("looks like a whole webhook URL") == true)
        #expect(try server.requests().isEmpty)
    }

    /// docs/plugins.md shows a request and the text it becomes: both are checked here.
    @Test func theDocumentedRequestProducesTheDocumentedMessage() throws {
        let page = try String(contentsOfFile: checkout + "/docs/plugins.md", encoding: .utf8)
        func block(after marker: String, fence: String) throws -> String {
            let start = try #require(page.range(of: marker), "docs/plugins.md lacks '\(marker)'")
            let open = try #require(page.range(of: fence + "\n", range: start.upperBound..<page.endIndex))
            let close = try #require(page.range(of: "\n```", range: open.upperBound..<page.endIndex))
            return String(page[open.upperBound..<close.lowerBound])
        }
        let request = try block(after: "### The request a notifier gets", fence: "```json")
        let message = try block(after: "A WeCom text message for the request above:", fence: "```")
        let server = try RobotServer()
        let state = try ScratchDirectory("wecom-state")
        defer { state.remove() }
        let result = try runNotifier("wecom", request: request, environment: environment(server), in: state.path)
        #expect(result["status"] as? String == "completed", "\(result)")
        let body = try #require(try server.requests().first?["body"] as? [String: Any])
        #expect((body["text"] as? [String: Any])?["content"] as? String == message)
    }

    @Test func aRequestThatIsNotJSONIsOneFailedResult() throws {
        let state = try ScratchDirectory("wecom-state")
        defer { state.remove() }
        for request in ["not json", #"{"protocol": 2, "idempotency_key": "x", "reminder": {}}"#, #"{"protocol": 1, "idempotency_key": "x"}"#] {
            let result = try runNotifier("wecom", request: request, environment: ["HUAYING_WECOM_KEY": "k"], in: state.path)
            #expect(result["status"] as? String == "failed", "\(request): \(result)")
        }
    }
}
