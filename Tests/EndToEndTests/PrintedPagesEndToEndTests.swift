import ControlProtocol
import Foundation
import Testing

/// `report --html` and `board --html`, opened in a real headless Chromium (Debian's
/// `chromium`, which `make test` installs): the page renders without console errors or
/// network requests, the expected text is in the rendered DOM, it prints to an A4 PDF, and a
/// screenshot is kept under `.build/test-artifacts/` (not committed).
@Suite struct PrintedPagesEndToEndTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/test-artifacts")

    /// Runs headless Chromium on a file with extra switches; its stderr is kept for checks.
    func browse(_ file: String, _ switches: [String]) throws -> ProgramResult {
        let chromium = try #require(Self.chromium, "chromium is missing: `make test` installs it (apt-get install chromium)")
        // A profile of its own per run, so parallel tests never share one.
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("hy-chromium-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: profile) }
        return try runProgram(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)",
                                         "--enable-logging=stderr", "--v=0"] + switches + ["file://" + file], timeout: 90)
    }

    /// The rendered DOM, a PNG screenshot and an A4 PDF of a page; fails on console errors and
    /// on anything fetched from the network.
    func render(_ file: String, screenshot name: String, landscape: Bool) throws -> String {
        let dom = try browse(file, ["--dump-dom"])
        #expect(dom.status == 0, "chromium: \(dom.stderr)")
        #expect(!dom.stderr.contains(":CONSOLE("), "console messages while rendering: \(dom.stderr)")
        try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
        let png = Self.artifacts.appendingPathComponent(name + ".png").path
        try? FileManager.default.removeItem(atPath: png)
        let shot = try browse(file, ["--screenshot=\(png)", landscape ? "--window-size=1600,1000" : "--window-size=1240,1754"])
        #expect(shot.status == 0, "\(shot.stderr)")
        let image = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(image.starts(with: [0x89, 0x50, 0x4E, 0x47]) && image.count > 5000, "a screenshot in \(png)")
        let pdf = Self.artifacts.appendingPathComponent(name + ".pdf").path
        try? FileManager.default.removeItem(atPath: pdf)
        let printed = try browse(file, ["--print-to-pdf=\(pdf)", "--no-pdf-header-footer"])
        #expect(printed.status == 0, "\(printed.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: pdf)).starts(with: Array("%PDF".utf8)))
        // Self-contained: nothing but the SVG namespace names a network address.
        let html = try String(contentsOfFile: file, encoding: .utf8)
        #expect(!html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http"), "no network resources")
        #expect(!html.contains("<script"), "no scripts")
        return dom.stdout
    }

    struct Fixture {
        let site: TestSite
        let daemon: TestDaemon
        let cli: EngineCLI
        let instance: Int
    }

    /// 黄桷村 and 石岭村 checks; 黄桷村's notice escalated, then acknowledged by the township
    /// with a note and a value; 石岭村's overdue.
    func fixture() throws -> Fixture {
        let workflow = DailyUseEndToEndTests.check
            .replacingOccurrences(of: "message: \"{{unit.name}}：请准备检查。\"", with: "message: \"{{unit.name}}：请准备检查。依据：《村民委员会组织法》（2025年修正）。\"")
            .replacingOccurrences(of: "      within: 1 day\n", with: "      within: 1 day\n      fields: [checked]\n")
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["check.yaml": workflow])
        let daemon = try simulatedDaemon(site, at: "2026-11-02T08:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        let id = try cli.start("check", ["unit": "huangjue", "day": "2026-11-09"])
        _ = try cli.start("check", ["unit": "shiling", "day": "2026-11-09"])
        try cli.setClock("2026-11-08T10:00+08:00")
        let reminder = try #require(try cli.inbox("yangfan").first { $0.instance == id })
        let acked = try cli.run(["ack", "\(reminder.id)", "--note", "已电话督促", "--set", "checked=yes"], as: "yangfan")
        #expect(acked.status == 0, "\(acked.stderr)")
        return Fixture(site: site, daemon: daemon, cli: cli, instance: id)
    }

    @Test func theWorkRecordRendersInChromiumInBothLanguages() throws {
        let f = try fixture()
        defer { f.site.remove() }
        let rows = try f.cli.audit(instance: f.instance)
        for locale in CLILocale.allCases {
            let file = f.site.root.appendingPathComponent("report-\(locale).html").path
            let result = try huaying(["--config", f.site.configPath, "--socket", f.site.socketPath, "report", "\(f.instance)", "--html", file],
                                     locale: locale)
            #expect(result.status == 0, "\(result.stderr)")
            let dom = try render(file, screenshot: "report-\(locale)", landscape: false)
            let words = locale == .chinese
                ? ["工作台账：村务检查", "法定期限", "依据", "《村民委员会组织法》（2025年修正）", "已电话督促", "checked=yes", "已升级至乡镇", "台账校验通过"]
                : ["Work record: 村务检查", "DEADLINE", "Legal basis", "《村民委员会组织法》（2025年修正）", "已电话督促", "checked=yes", "escalated", "ledger verified"]
            for word in words { #expect(dom.contains(word), "\(locale): \(word) in the rendered page") }
            #expect(dom.contains("huangjue") && dom.contains("2026-11-09 周一 18:00"), "header and deadline")
            for row in rows { #expect(dom.contains(row.hash), "ledger row \(row.seq)'s hash") }
        }
        #expect(f.daemon.stop() == 0)
    }

    @Test func theProgressBoardRendersInChromiumInBothLanguages() throws {
        let f = try fixture()
        defer { f.site.remove() }
        for locale in CLILocale.allCases {
            let file = f.site.root.appendingPathComponent("board-\(locale).html").path
            let result = try huaying(["--config", f.site.configPath, "--socket", f.site.socketPath, "board", "--under", "lushi",
                                      "--workflow", "check", "--html", file], locale: locale)
            #expect(result.status == 0, "\(result.stderr)")
            let dom = try render(file, screenshot: "board-\(locale)", landscape: true)
            #expect(dom.contains("<svg"), "an inline SVG")
            let words = locale == .chinese ? ["黄桷村", "石岭村", "通知检查", "已完成", "逾期", "未到期", "11-07 09:00"]
                                           : ["黄桷村", "石岭村", "通知检查", "done", "overdue", "not yet due", "11-07 09:00"]
            for word in words { #expect(dom.contains(word), "\(locale): \(word) on the board") }
            let html = try String(contentsOfFile: file, encoding: .utf8)
            #expect(html.contains("class=\"cell done\"") && html.contains("class=\"cell overdue\"") && html.contains("class=\"cell not-yet-due\""))
        }
        #expect(try huaying(["--socket", f.site.socketPath, "board", "--under", "nowhere", "--workflow", "check", "--html", "/tmp/x.html"]).status == 4)
        #expect(f.daemon.stop() == 0)
    }
}
