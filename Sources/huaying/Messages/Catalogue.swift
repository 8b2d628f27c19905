import ControlProtocol
import WorkflowModel

/// Every fixed text of the CLI's human output, in Chinese and English, in one place: headers,
/// states, terms, lines, hints, `--help` abstracts and refusals. `--json` output never passes
/// through here (it stays English and stable for scripts).
///
/// A text names its arguments `{1}`, `{2}`, … in the order ``Message/callAsFunction(_:)``
/// receives them; each language may place them differently. `CLITextTests` checks that every
/// message has both languages with the same arguments.
enum Message: String, CaseIterable, Sendable {
    // MARK: --help abstracts
    case abstractRoot, discussionRoot
    case abstractStatus, abstractLint, abstractPlan, abstractCalendar, abstractCalendarAdd, abstractCalendarIsWorkday,
         abstractCalendarHolidays
    case abstractStart, abstractInstances, abstractShow, discussionShow, abstractUpdate, abstractCancel, abstractInbox,
         abstractAck, abstractAudit, abstractClock, abstractClockAdvance, abstractClockSet, abstractWorkflows,
         abstractReload, abstractBackup, abstractAgenda, abstractWhoami, abstractReport, abstractBoard,
         abstractAway, abstractNudge, abstractPlugins, abstractRetry

    // MARK: Table headers and terms
    case headerID, headerWorkflow, headerTitle, headerVersion, headerState, headerUnit, headerStarted, headerNextDue,
         headerOpen, headerStep, headerDue, headerDeadline, headerAckBy, headerDoneAt, headerLate, headerAckedBy,
         headerLevel, headerAssignees, headerMessage, headerAcked, headerInstance, headerSeq, headerAt, headerActor,
         headerEvent, headerText, headerInUse, headerFile, headerWho, headerDate, headerNumber

    // MARK: States
    case stepPending, stepDue, stepRunning, stepWaiting, stepDone, stepFailed, stepCancelled
    case reminderOpen, reminderAcked, reminderCancelled, overdue, escalated
    case instanceRunning, instanceCompleted, instanceCancelled

    // MARK: Durations (TextFormatting.duration)
    case unitDays, unitHours, unitMinutes, unitSeconds

    // MARK: show
    case showInstanceLine, showVersion, showState, showUnit, showParam, showStarted, showStartedBy, showEnded,
         showCancelled, showLate, showNote, showNoOpenReminders, showOpenReminders, showDueFormula, showOverdueMark, provisionalMark, provisionalNote

    // MARK: instances, inbox
    case noInstances, noReminders, noOpenReminders

    // MARK: start
    case startStarted, startPastDue, startBulkStarted, startBulkRefused, startBulkSummary, startBulkNoUnits, startDryRunNoDaemon
    case startDryRunPastDue

    // MARK: ack, cancel, update
    case ackLine, ackAs, ackAt, ackNote, ackValues
    case cancelLine
    case updateNoChange, updateUpdated, updateUnset, updateRederived, updateReminders, updateReminderLine

    // MARK: status
    case statusCritical, statusDaemon, statusUpSince, statusClock, statusState, statusSocket, statusConfig,
         statusReload, statusNotReloaded, statusLastError, statusCounts, versionMismatch

    // MARK: workflows, reload
    case workflowRemoved, workflowsNotLoaded, reloadSummary, reloadLoaded, reloadRemoved, reloadFailed, reloadNotReloaded

    // MARK: clock, audit, backup
    case clockLine, clockRan, clockModeReal, clockModeSimulated
    case auditNoRows, auditEmpty, auditVerified, auditVerifiedOne, auditFailed, auditFailedAt, auditNoReason
    case backupWritten, backupVerified

    // MARK: agenda, whoami
    case agendaNothing, agendaWrote
    case whoamiUser, whoamiAdmin, whoamiNotAdmin, whoamiRoles, whoamiNoRoles, whoamiUnits, whoamiNotInChart, whoamiActingAs,
         whoamiUseAs

    // MARK: Errors
    case errorCommand, refusalReason, refusalReasonTranslated, errorUnreachable, errorBadAnswer, errorUnexpectedAnswer

    // MARK: Refusals (one per RefusalCode, see refusal(_:))
    case refusalMalformedRequest, refusalUnsupportedVersion, refusalRequestTooLarge, refusalUnknownCommand,
         refusalBadArguments, refusalBusy, refusalNotAdmin, refusalNotVisible, refusalUnknownUser, refusalNotRecipient,
         refusalUnknownWorkflow, refusalUnknownVersion, refusalBrokenVersion, refusalUnknownInstance,
         refusalUnknownReminder, refusalUnknownField, refusalBadField, refusalPrerequisiteMissing, refusalBadParams, refusalNotRunning, refusalAlreadyAcknowledged,
         refusalCancelled, refusalRealClock, refusalClockBackwards, refusalClockJumpTooLarge, refusalClockBusy,
         refusalStoreError, refusalShuttingDown, refusalInternalError, refusalUnknown, refusalIdleTimeout,
         refusalNoteTooLong, refusalStateLost, refusalBackupRunning, refusalCannotWrite, refusalFileExists,
         refusalNotPermitted, refusalUnknownJob, refusalDuplicate, refusalSubstituteCycle, refusalUnknownStep, refusalNotFailed

    // MARK: away, nudge
    case awayNone, headerUser, headerFrom, headerUntil, headerSubstitute, headerRecordedBy, awayEnded, awayRecorded,
         awayEndedEarly, nudgeLine

    // MARK: report, board
    case pageWritten, reportTitle, reportSteps, reportBasis, reportDone, reportNotes, reportMarks, reportLedger,
         reportNotVerified, reportFooter, reportAckedBy, boardTitle, boardDone, boardNotYetDue, boardProvisional, boardSummary, boardEmpty,
         boardFooter

    // MARK: lint, plan errors, misc
    case lintClean, lintFound, planBadTime, planNoWorkflow, planNoneIn, startUnknownUnit, backupNoReason

    // MARK: calendar (offline)
    case calendarIsWorkday, calendarNotWorkday, calendarProvisional, dayOrdinaryWorkday, dayMakeUpWorkday, dayWeekend,
         dayHoliday, calendarTitle, calendarSource, calendarSourceNone, calendarCounts, headerHoliday, headerDaysOff,
         headerMakeUpWorkdays, headerMakeUpUnknown, calendarOneDay, calendarDays, headerKind, headerWhy, kindWorkday,
         kindDayOff

    // MARK: plan (offline)
    case planDefault, planStart, planRecord, planAckBy, planRemindedEvery, planRemindedUntilAck,
         planEscalate, planWarning, planMovedFrom, planDayOff, planWeekend, planProvisional, planEstimate, planPast

    /// The text in the run's language with `arguments` in place of `{1}`, `{2}`, ….
    func callAsFunction(_ arguments: Any...) -> String {
        text(in: .current, arguments.map { "\($0)" })
    }

    /// The text in `language` with `arguments` in place of `{1}`, `{2}`, ….
    func text(in language: Language, _ arguments: [String] = []) -> String {
        let phrase = Catalogue.phrase(self)
        var text = language == .zh ? phrase.zh : phrase.en
        // From the last so `{1}` does not match the start of `{10}`.
        for (index, argument) in arguments.enumerated().reversed() {
            text = text.replacingOccurrences(of: "{\(index + 1)}", with: argument)
        }
        return text
    }
}

/// One message in both languages.
struct Phrase: Sendable {
    var zh: String
    var en: String
}

enum Catalogue {
    /// The words of a step's state (`pending` → 待办).
    static func stepState(_ raw: String) -> String {
        guard let state = StepState(rawValue: raw) else { return raw }
        switch state {
        case .pending: return Message.stepPending()
        case .due: return Message.stepDue()
        case .running: return Message.stepRunning()
        case .waiting: return Message.stepWaiting()
        case .done: return Message.stepDone()
        case .failed: return Message.stepFailed()
        case .cancelled: return Message.stepCancelled()
        }
    }

    /// The words of a reminder's state (`acked` → 已确认).
    static func reminderState(_ raw: String) -> String {
        guard let state = ReminderState(rawValue: raw) else { return raw }
        switch state {
        case .open: return Message.reminderOpen()
        case .acked: return Message.reminderAcked()
        case .cancelled: return Message.reminderCancelled()
        }
    }

    /// The words of an instance's state (`running` → 进行中).
    static func instanceState(_ raw: String) -> String {
        guard let state = InstanceStatus(rawValue: raw) else { return raw }
        switch state {
        case .running: return Message.instanceRunning()
        case .completed: return Message.instanceCompleted()
        case .cancelled: return Message.instanceCancelled()
        }
    }

    /// Why a day is or is not a workday (`DayKind.explanation`, in the run's language).
    static func explanation(_ kind: DayKind) -> String {
        switch kind {
        case .workday: return Message.dayOrdinaryWorkday()
        case let .makeUpWorkday(holiday): return Message.dayMakeUpWorkday(holiday)
        case .weekend: return Message.dayWeekend()
        case let .holiday(name): return Message.dayHoliday(name)
        }
    }

    /// The message explaining a refusal code (a code this CLI does not know has none: the
    /// daemon's own message is shown alone).
    static func refusal(_ code: String) -> Message? {
        guard let refusal = RefusalCode(rawValue: code) else { return nil }
        switch refusal {
        case .malformedRequest: return .refusalMalformedRequest
        case .unsupportedVersion: return .refusalUnsupportedVersion
        case .requestTooLarge: return .refusalRequestTooLarge
        case .unknownCommand: return .refusalUnknownCommand
        case .badArguments: return .refusalBadArguments
        case .busy: return .refusalBusy
        case .notAdmin: return .refusalNotAdmin
        case .notVisible: return .refusalNotVisible
        case .unknownUser: return .refusalUnknownUser
        case .notRecipient: return .refusalNotRecipient
        case .unknownWorkflow: return .refusalUnknownWorkflow
        case .unknownVersion: return .refusalUnknownVersion
        case .brokenVersion: return .refusalBrokenVersion
        case .unknownInstance: return .refusalUnknownInstance
        case .unknownReminder: return .refusalUnknownReminder
        case .unknownField: return .refusalUnknownField
        case .badField: return .refusalBadField
        case .prerequisiteMissing: return .refusalPrerequisiteMissing
        case .badParams: return .refusalBadParams
        case .duplicateInstance: return .refusalDuplicate
        case .notRunning: return .refusalNotRunning
        case .alreadyAcknowledged: return .refusalAlreadyAcknowledged
        case .cancelled: return .refusalCancelled
        case .realClock: return .refusalRealClock
        case .clockBackwards: return .refusalClockBackwards
        case .clockJumpTooLarge: return .refusalClockJumpTooLarge
        case .clockBusy: return .refusalClockBusy
        case .storeError: return .refusalStoreError
        case .shuttingDown: return .refusalShuttingDown
        case .internalError: return .refusalInternalError
        case .unknown: return .refusalUnknown
        case .idleTimeout: return .refusalIdleTimeout
        case .noteTooLong: return .refusalNoteTooLong
        case .stateLost: return .refusalStateLost
        case .backupRunning: return .refusalBackupRunning
        case .cannotWrite: return .refusalCannotWrite
        case .fileExists: return .refusalFileExists
        case .notPermitted: return .refusalNotPermitted
        case .unknownJob: return .refusalUnknownJob
        case .substituteCycle: return .refusalSubstituteCycle
        case .unknownStep: return .refusalUnknownStep
        case .notFailed: return .refusalNotFailed
        }
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    static func phrase(_ message: Message) -> Phrase {
        switch message {
        case .abstractRoot: return Phrase(zh: "与华英流程守护进程对话，并离线检查流程文件。",
                                          en: "Talk to the Huaying workflow daemon, and check workflow files offline.")
        case .discussionRoot: return Phrase(
            zh: "退出码：0 成功；1 检查未通过（lint 有错误、`calendar is-workday` 为休息日、`audit --verify` 台账损坏、`status` 状态库丢失、`workflows --check` 有文件未加载）；2 用法错误或配置文件有误；3 无法连接守护进程；4 守护进程拒绝了请求。",
            en: "Exit codes: 0 success; 1 a check failed (lint errors, a day off for `calendar is-workday`, a broken ledger for `audit --verify`, a lost state database for `status`, a file not loaded for `workflows --check`); 2 bad usage or a broken config file; 3 the daemon could not be reached; 4 the daemon refused the request.")
        case .abstractStatus: return Phrase(zh: "显示守护进程的版本、运行时长、时钟、状态库路径和计数。",
                                            en: "Show the daemon's version, uptime, clock, state path and counters.")
        case .abstractLint: return Phrase(zh: "检查流程文件、组织架构和工作日历（离线）。",
                                          en: "Check workflow files, the org chart and the calendars (offline).")
        case .abstractPlan: return Phrase(zh: "显示一个流程实例按日期排出的时间表（离线）。",
                                          en: "Show the dated timeline of one instance of a workflow (offline).")
        case .abstractCalendar: return Phrase(zh: "按工作日历做日期计算（离线）。",
                                              en: "Date arithmetic on the working-day calendar (offline).")
        case .abstractCalendarAdd: return Phrase(zh: "给日期加上一段时间，输出结果日期（YYYY-MM-DD）。",
                                                 en: "Add an amount to a date and print the resulting date (YYYY-MM-DD).")
        case .abstractCalendarIsWorkday: return Phrase(zh: "说明某天是否为工作日及原因。",
                                                       en: "Say whether a date is a workday, and why.")
        case .abstractCalendarHolidays: return Phrase(zh: "列出一年的节假日和调休上班日（--all 列出每一天）。",
                                                      en: "List a year's holidays and make-up workdays (with --all, every day).")
        case .abstractStart: return Phrase(zh: "启动一个流程实例并输出其编号（--under/--kind 为多个单位各启动一个）。",
                                           en: "Start an instance of a workflow and print its id (with --under/--kind, one per matching unit).")
        case .abstractInstances: return Phrase(zh: "列出流程实例及其下一个应办时间。",
                                               en: "List workflow instances with what falls due next.")
        case .abstractShow: return Phrase(zh: "显示一个实例：参数、各步骤时间线和待确认的提醒。",
                                          en: "Show one instance: its params, a timeline of its steps, and its open reminders.")
        case .discussionShow: return Phrase(
            zh: "时间线逐步列出：状态、应办时间（该步骤到期的时间）、法定期限（流程文件规定的最迟办结时间）、完成时间、延误标记（例如守护进程停机后“延误 3小时12分”）和经办人。提醒表中的确认期限是经办人须确认提醒的时间，过期未确认即升级；它可以早于法定期限。",
            en: "The timeline lists each step with its state, DUE (when it falls due), DEADLINE (the statutory deadline the workflow file sets: the latest it may be done), when it was done, a late mark when it ran late (for example after the daemon was down: \"late 3h12m\"), and who acknowledged it. In the reminder table, ACK BY is when the recipients must acknowledge the reminder before it escalates; it may fall before the step's deadline.")
        case .abstractUpdate: return Phrase(zh: "修改运行中实例的参数；未到的应办时间重新推算。",
                                            en: "Change params of a running instance; pending due times are derived again.")
        case .abstractCancel: return Phrase(zh: "取消运行中的实例：未办步骤和待确认提醒全部停止。",
                                            en: "Cancel a running instance: its pending steps and open reminders stop.")
        case .abstractPlugins: return Phrase(zh: "列出插件：内置插件，以及插件目录中的外部插件及其问题（离线）。",
                                             en: "List the plugins: built-in, and external ones from the plugins folder with their problems (offline).")
        case .abstractRetry: return Phrase(zh: "重新执行一个失败的步骤（管理员）。", en: "Run a failed step again (admins).")
        case .abstractInbox: return Phrase(zh: "列出你待确认的提醒（--all 含已确认和已取消的）。",
                                           en: "List your open reminders (with --all, acknowledged and cancelled ones too).")
        case .abstractAck: return Phrase(zh: "确认收件箱中的一条提醒；其重复提醒和升级随即停止。",
                                         en: "Acknowledge a reminder from your inbox; its repeats and escalations stop.")
        case .abstractAudit: return Phrase(zh: "查看台账（何时、何人、何事），校验其哈希链，或导出。",
                                           en: "Show the ledger (what happened, when, by whom), check its hash chain, or export it.")
        case .abstractClock: return Phrase(zh: "显示守护进程的时钟；拨动模拟时钟（advance、set）。",
                                           en: "Show the daemon's clock; move the simulated clock (advance, set).")
        case .abstractClockAdvance: return Phrase(zh: "把模拟时钟向前拨一段时间，其间到期的事项依次执行。",
                                                  en: "Move the simulated clock forward by a duration, running what falls due.")
        case .abstractClockSet: return Phrase(zh: "把模拟时钟拨到某一时刻，途中到期的事项依次执行。",
                                              en: "Move the simulated clock to a time, running what falls due on the way.")
        case .abstractWorkflows: return Phrase(zh: "列出已加载的流程、在用版本和加载失败的文件。",
                                               en: "List loaded workflows, versions in use, and files that failed to load.")
        case .abstractReload: return Phrase(zh: "立即重新加载流程文件、组织架构和日历。",
                                            en: "Reload workflow files, the org chart and calendars now.")
        case .abstractBackup: return Phrase(zh: "在守护进程运行时把数据库复制到新文件，并校验副本的台账。",
                                            en: "Copy the daemon's database into a new file while it runs, and verify the copy's ledger.")
        case .abstractAgenda: return Phrase(zh: "按日期列出你所辖单位（或某单位以下）将要到期和已逾期的事项；--ics 导出为日历文件。",
                                            en: "Everything due or overdue across your units (or below a unit), by date; --ics writes a calendar file.")
        case .abstractWhoami: return Phrase(zh: "守护进程认定的你：用户、角色、所辖单位。",
                                            en: "Who the daemon thinks you are: your user, roles and units.")

        case .abstractAway: return Phrase(zh: "登记请假并指定代理人（请假/代理），或列出请假（--list）。",
                                          en: "Record leave with a substitute (请假/代理), or list the windows (--list).")
        case .abstractNudge: return Phrase(zh: "立即再发一次待确认的提醒（催办），台账记录催办人。",
                                           en: "Send an open reminder again now (催办), recorded in the ledger with who nudged.")
        case .abstractReport: return Phrase(zh: "把实例的工作台账写成可打印的 A4 网页（--html）。",
                                            en: "Write an instance's work record as a printable A4 page (--html).")
        case .abstractBoard: return Phrase(zh: "把某单位以下一个流程的进度看板（单位 × 步骤）写成网页（--html）。",
                                           en: "Write a progress board (units × steps) of a workflow below a unit as a page (--html).")

        case .headerID: return Phrase(zh: "编号", en: "ID")
        case .headerWorkflow: return Phrase(zh: "流程", en: "WORKFLOW")
        case .headerTitle: return Phrase(zh: "名称", en: "TITLE")
        case .headerVersion: return Phrase(zh: "版本", en: "VERSION")
        case .headerState: return Phrase(zh: "状态", en: "STATE")
        case .headerUnit: return Phrase(zh: "单位", en: "UNIT")
        case .headerStarted: return Phrase(zh: "开始时间", en: "STARTED")
        case .headerNextDue: return Phrase(zh: "下一应办时间", en: "NEXT DUE")
        case .headerOpen: return Phrase(zh: "待确认", en: "OPEN")
        case .headerStep: return Phrase(zh: "步骤", en: "STEP")
        case .headerDue: return Phrase(zh: "应办时间", en: "DUE")
        case .headerDeadline: return Phrase(zh: "法定期限", en: "DEADLINE")
        case .headerAckBy: return Phrase(zh: "确认期限", en: "ACK BY")
        case .headerDoneAt: return Phrase(zh: "完成时间", en: "DONE AT")
        case .headerLate: return Phrase(zh: "延误", en: "LATE")
        case .headerAckedBy: return Phrase(zh: "经办人", en: "ACKED BY")
        case .headerLevel: return Phrase(zh: "级别", en: "LEVEL")
        case .headerAssignees: return Phrase(zh: "接收人", en: "ASSIGNEES")
        case .headerMessage: return Phrase(zh: "内容", en: "MESSAGE")
        case .headerAcked: return Phrase(zh: "确认情况", en: "ACKED")
        case .headerInstance: return Phrase(zh: "实例", en: "INSTANCE")
        case .headerSeq: return Phrase(zh: "序号", en: "SEQ")
        case .headerAt: return Phrase(zh: "时间", en: "AT")
        case .headerActor: return Phrase(zh: "操作人", en: "ACTOR")
        case .headerEvent: return Phrase(zh: "事件", en: "EVENT")
        case .headerText: return Phrase(zh: "说明", en: "TEXT")
        case .headerInUse: return Phrase(zh: "在用", en: "IN USE")
        case .headerFile: return Phrase(zh: "文件", en: "FILE")
        case .headerWho: return Phrase(zh: "经办人", en: "WHO")
        case .headerDate: return Phrase(zh: "日期", en: "DATE")
        case .headerNumber: return Phrase(zh: "序", en: "#")

        case .stepPending: return Phrase(zh: "待办", en: "pending")
        case .stepDue: return Phrase(zh: "已到期", en: "due")
        case .stepRunning: return Phrase(zh: "办理中", en: "running")
        case .stepWaiting: return Phrase(zh: "已提醒", en: "waiting")
        case .stepDone: return Phrase(zh: "已完成", en: "done")
        case .stepFailed: return Phrase(zh: "失败", en: "failed")
        case .stepCancelled: return Phrase(zh: "已取消", en: "cancelled")
        case .reminderOpen: return Phrase(zh: "已提醒", en: "open")
        case .reminderAcked: return Phrase(zh: "已确认", en: "acked")
        case .reminderCancelled: return Phrase(zh: "已取消", en: "cancelled")
        case .overdue: return Phrase(zh: "逾期", en: "overdue")
        case .escalated: return Phrase(zh: "已升级至乡镇", en: "escalated")
        case .instanceRunning: return Phrase(zh: "进行中", en: "running")
        case .instanceCompleted: return Phrase(zh: "已完成", en: "completed")
        case .instanceCancelled: return Phrase(zh: "已取消", en: "cancelled")

        case .unitDays: return Phrase(zh: "{1}天", en: "{1}d")
        case .unitHours: return Phrase(zh: "{1}小时", en: "{1}h")
        case .unitMinutes: return Phrase(zh: "{1}分", en: "{1}m")
        case .unitSeconds: return Phrase(zh: "{1}秒", en: "{1}s")

        case .showInstanceLine: return Phrase(zh: "实例 {1}：{2}  {3}", en: "instance {1}: {2}  {3}")
        case .showVersion: return Phrase(zh: "版本", en: "version")
        case .showState: return Phrase(zh: "状态", en: "state")
        case .showUnit: return Phrase(zh: "单位", en: "unit")
        case .showParam: return Phrase(zh: "参数", en: "param")
        case .showStarted: return Phrase(zh: "开始", en: "started")
        case .showStartedBy: return Phrase(zh: "{1}，发起人 {2}", en: "{1} by {2}")
        case .showEnded: return Phrase(zh: "结束", en: "ended")
        case .showCancelled: return Phrase(zh: "取消原因", en: "cancelled")
        case .showLate: return Phrase(zh: "延误 {1}", en: "late {1}")
        case .showNote: return Phrase(zh: "备注：{1}", en: "note: {1}")
        case .showNoOpenReminders: return Phrase(zh: "没有待确认的提醒", en: "no open reminders")
        case .showOpenReminders: return Phrase(zh: "待确认的提醒", en: "open reminders")
        case .showDueFormula: return Phrase(zh: "；应办 {1}", en: "; due {1}")
        case .showOverdueMark: return Phrase(zh: "（逾期）", en: " (overdue)")
        case .provisionalMark: return Phrase(zh: "（暂定）", en: " (provisional)")
        case .provisionalNote: return Phrase(
            zh: "{1}年的日期为暂定：日历中尚无国务院该年节假日安排通知；通知载入后将重新推算",
            en: "dates in {1} are provisional: the calendar has no State Council holiday notice for {1} yet; they are derived again when it does")

        case .noInstances: return Phrase(zh: "没有实例", en: "no instances")
        case .noReminders: return Phrase(zh: "没有提醒", en: "no reminders")
        case .noOpenReminders: return Phrase(zh: "没有待确认的提醒", en: "no open reminders")

        case .startStarted: return Phrase(zh: "已启动 {2} 的实例 {1}", en: "started instance {1} of {2}")
        case .startPastDue: return Phrase(
            zh: "有 {1} 个步骤启动时已过应办时间，已立即执行（标记为晚于应办时间开始）；见 `huaying show {2}`",
            en: "{1} step(s) already past due ran at once (marked as started after its due time); see `huaying show {2}`")
        case .startDryRunPastDue: return Phrase(
            zh: "有 {1} 个步骤已过应办时间，启动后将立即执行（标记为晚于应办时间开始）",
            en: "{1} step(s) already past due would run at once when started (marked as started after its due time)")
        case .startBulkStarted: return Phrase(zh: "已启动  {1}  实例 {2}", en: "started  {1}  instance {2}")
        case .startBulkRefused: return Phrase(zh: "已拒绝  {1}  {2}", en: "refused  {1}  {2}")
        case .startBulkSummary: return Phrase(zh: "{1} 个单位：已启动 {2} 个，已拒绝 {3} 个", en: "{1} unit(s): {2} started, {3} refused")
        case .startBulkNoUnits: return Phrase(zh: "{1} 以下没有类型为 {2} 的单位", en: "no unit of kind {2} under {1}")
        case .startDryRunNoDaemon: return Phrase(zh: "huaying：start --dry-run：守护进程无应答，按当前时间排期",
                                                 en: "huaying: start --dry-run: no daemon answered; planned from the current time")

        case .ackLine: return Phrase(zh: "已确认提醒 {1}（实例 {2}，步骤 {3}）", en: "acknowledged reminder {1} (instance {2}, step {3})")
        case .ackAs: return Phrase(zh: "，确认人 {1}", en: " as {1}")
        case .ackAt: return Phrase(zh: "，时间 {1}", en: " at {1}")
        case .ackNote: return Phrase(zh: "  备注：{1}", en: "  note: {1}")
        case .ackValues: return Phrase(zh: "  填报：{1}", en: "  values: {1}")
        case .cancelLine: return Phrase(zh: "已取消实例 {1}：取消 {2} 个步骤、{3} 条提醒",
                                        en: "cancelled instance {1}: {2} step(s) and {3} open reminder(s) cancelled")
        case .updateNoChange: return Phrase(zh: "实例 {1}：参数未变（已是这些值）", en: "instance {1}: no param changed (the values were already set)")
        case .updateUpdated: return Phrase(zh: "已更新实例 {1}", en: "updated instance {1}")
        case .updateUnset: return Phrase(zh: "（未设）", en: "(unset)")
        case .updateRederived: return Phrase(zh: "重新推算的应办时间", en: "due times derived again")
        case .updateReminders: return Phrase(zh: "待确认的提醒已按新日期调整（接收人看到新内容）",
                                             en: "open reminders brought in line with the new dates (their recipients see the new text)")
        case .updateReminderLine: return Phrase(zh: "  提醒 {1}（{2}）：确认期限 {3} → {4}", en: "  reminder {1} ({2}): acknowledge by {3} → {4}")

        case .statusCritical: return Phrase(zh: "严重  {1}", en: "CRITICAL  {1}")
        case .statusDaemon: return Phrase(zh: "huayingd {1}（协议 {2}），进程号 {3}", en: "huayingd {1} (protocol {2}), pid {3}")
        case .statusUpSince: return Phrase(zh: "启动于    {1}（{2}）", en: "up since  {1} ({2})")
        case .statusClock: return Phrase(zh: "时钟      {1}，现在 {2}（{3}）", en: "clock     {1}, now {2} ({3})")
        case .statusState: return Phrase(zh: "状态库    {1}", en: "state     {1}")
        case .statusSocket: return Phrase(zh: "套接字    {1}", en: "socket    {1}")
        case .statusConfig: return Phrase(zh: "配置      {1}", en: "config    {1}")
        case .statusReload: return Phrase(zh: "重新加载  {1}（{2}）：加载 {3}，未变 {4}，失败 {5}，移除 {6}",
                                          en: "reload    {1} ({2}): {3} loaded, {4} unchanged, {5} failed, {6} removed")
        case .statusNotReloaded: return Phrase(zh: "          未重新加载：{1}", en: "          not reloaded: {1}")
        case .statusLastError: return Phrase(zh: "最近错误  {1}", en: "last error  {1}")
        case .statusCounts: return Phrase(zh: "计数", en: "counts")
        case .versionMismatch: return Phrase(zh: "huaying：注意：命令行版本 {1} 与守护进程版本 {2} 不一致",
                                             en: "huaying: warning: this CLI is version {1}, the daemon {2}")

        case .workflowRemoved: return Phrase(zh: "（已移除）", en: "(removed)")
        case .workflowsNotLoaded: return Phrase(zh: "未加载的文件（仍沿用上一个有效版本）：", en: "files not loaded (the last good version stays in force):")
        case .reloadSummary: return Phrase(zh: "已重新加载：加载 {1}，未变 {2}，失败 {3}，移除 {4}",
                                           en: "reloaded: {1} loaded, {2} unchanged, {3} failed, {4} removed")
        case .reloadLoaded: return Phrase(zh: "  已加载：{1}", en: "  loaded:  {1}")
        case .reloadRemoved: return Phrase(zh: "  已移除：{1}（运行中的实例沿用原版本）", en: "  removed: {1} (running instances keep their version)")
        case .reloadFailed: return Phrase(zh: "  失败：{1}（见 `huaying workflows`）", en: "  failed:  {1} (see `huaying workflows`)")

        case .reloadNotReloaded: return Phrase(zh: "  未重新加载：{1}", en: "  not reloaded: {1}")

        case .clockLine: return Phrase(zh: "时钟 {1}，现在 {2}（{3}）", en: "clock {1}, now {2} ({3})")
        case .clockRan: return Phrase(zh: "执行了 {1} 个定时事项", en: "{1} timed item(s) ran")
        case .clockModeReal: return Phrase(zh: "真实", en: "real")
        case .clockModeSimulated: return Phrase(zh: "模拟", en: "simulated")
        case .auditNoRows: return Phrase(zh: "实例 {1} 没有台账记录", en: "no ledger rows for instance {1}")
        case .auditEmpty: return Phrase(zh: "台账为空", en: "the ledger is empty")
        case .auditVerified: return Phrase(zh: "台账校验通过：{1} 行", en: "ledger verified: {1} rows")
        case .auditVerifiedOne: return Phrase(zh: "台账校验通过：1 行", en: "ledger verified: 1 row")
        case .auditFailed: return Phrase(zh: "台账校验失败：{1}", en: "ledger verification FAILED: {1}")
        case .auditFailedAt: return Phrase(zh: "台账校验失败，第 {1} 行：{2}", en: "ledger verification FAILED at row {1}: {2}")
        case .auditNoReason: return Phrase(zh: "未说明原因", en: "no reason given")
        case .backupWritten: return Phrase(zh: "备份已写入：{1}{2}", en: "backup written: {1}{2}")
        case .backupVerified: return Phrase(zh: "备份台账校验通过：{1} 行，末行 {2}", en: "its ledger verified: {1} rows, head row {2}")

        case .agendaNothing: return Phrase(zh: "{1} 至 {2} 没有到期或逾期的事项", en: "nothing due or overdue from {1} to {2}")
        case .agendaWrote: return Phrase(zh: "已写入 {1}：{2} 个事件", en: "wrote {1}: {2} event(s)")
        case .whoamiUser: return Phrase(zh: "用户      {1}", en: "user      {1}")
        case .whoamiAdmin: return Phrase(zh: "管理员    是", en: "admin     yes")
        case .whoamiNotAdmin: return Phrase(zh: "管理员    否", en: "admin     no")
        case .whoamiRoles: return Phrase(zh: "角色", en: "roles")
        case .whoamiNoRoles: return Phrase(zh: "组织架构中没有你的角色", en: "no roles in the org chart")
        case .whoamiUnits: return Phrase(zh: "所辖单位  {1}", en: "units     {1}")
        case .whoamiNotInChart: return Phrase(zh: "{1} 不在组织架构（staff.yaml）中", en: "{1} is not in the org chart (staff.yaml)")
        case .whoamiActingAs: return Phrase(zh: "操作人    {1}（代 {2} 操作）", en: "actor     {1} (acting as {2})")
        case .whoamiUseAs: return Phrase(zh: "提示：以 root 身份操作时，用 --as 用户名 代某人查看或办理", en: "hint: as root, act for a person with --as USER")

        case .errorCommand: return Phrase(zh: "huaying：{1}：{2}", en: "huaying: {1}: {2}")
        case .refusalReason: return Phrase(zh: "{1} [{2}]", en: "{1} [{2}]")
        case .refusalReasonTranslated: return Phrase(zh: "{1}：{2} [{3}]", en: "{2} [{3}]")
        case .errorUnreachable: return Phrase(zh: "huaying：无法连接守护进程：{1}", en: "huaying: {1}")
        case .errorBadAnswer: return Phrase(zh: "huaying：看不懂守护进程的回答：{1}", en: "huaying: cannot understand the daemon's answer: {1}")
        case .errorUnexpectedAnswer: return Phrase(zh: "huaying：{1}：守护进程的回答不符合预期：{2}", en: "huaying: {1}: unexpected answer from the daemon: {2}")

        case .refusalMalformedRequest: return Phrase(zh: "请求格式有误", en: "malformed request")
        case .refusalUnsupportedVersion: return Phrase(zh: "守护进程不支持此协议版本", en: "unsupported protocol version")
        case .refusalRequestTooLarge: return Phrase(zh: "请求过大", en: "request too large")
        case .refusalUnknownCommand: return Phrase(zh: "守护进程不认识此命令（版本不一致？）", en: "unknown command")
        case .refusalBadArguments: return Phrase(zh: "参数有误", en: "bad arguments")
        case .refusalBusy: return Phrase(zh: "守护进程正忙，请稍后再试", en: "busy")
        case .refusalNotAdmin: return Phrase(zh: "只有管理员可以这样做", en: "admins only")
        case .refusalNotVisible: return Phrase(zh: "你无权查看", en: "not visible to you")
        case .refusalUnknownUser: return Phrase(zh: "组织架构中没有此用户", en: "unknown user")
        case .refusalNotRecipient: return Phrase(zh: "这条提醒不是发给你的", en: "not a recipient")
        case .refusalUnknownWorkflow: return Phrase(zh: "没有这个流程", en: "unknown workflow")
        case .refusalUnknownVersion: return Phrase(zh: "没有这个流程版本", en: "unknown version")
        case .refusalBrokenVersion: return Phrase(zh: "流程版本已损坏", en: "broken version")
        case .refusalUnknownInstance: return Phrase(zh: "没有这个实例", en: "unknown instance")
        case .refusalUnknownReminder: return Phrase(zh: "没有这条提醒", en: "unknown reminder")
        case .refusalUnknownField: return Phrase(zh: "没有这个填报项", en: "unknown field")
        case .refusalBadField: return Phrase(zh: "填报项的值不能用（日期须为 YYYY-MM-DD，且不晚于今天）", en: "bad field value")
        case .refusalPrerequisiteMissing: return Phrase(zh: "所需的另一流程结果尚未产生", en: "prerequisite missing")
        case .refusalBadParams: return Phrase(zh: "流程参数有误", en: "bad params")
        case .refusalNotRunning: return Phrase(zh: "实例已不在运行", en: "not running")
        case .refusalAlreadyAcknowledged: return Phrase(zh: "这条提醒已确认过", en: "already acknowledged")
        case .refusalCancelled: return Phrase(zh: "已取消", en: "cancelled")
        case .refusalRealClock: return Phrase(zh: "守护进程用的是真实时钟，不能拨动", en: "real clock")
        case .refusalClockBackwards: return Phrase(zh: "时钟不能往回拨", en: "clock backwards")
        case .refusalClockJumpTooLarge: return Phrase(zh: "一次拨动过大", en: "clock jump too large")
        case .refusalClockBusy: return Phrase(zh: "时钟正在拨动", en: "clock busy")
        case .refusalStoreError: return Phrase(zh: "状态库出错", en: "store error")
        case .refusalShuttingDown: return Phrase(zh: "守护进程正在停止", en: "shutting down")
        case .refusalInternalError: return Phrase(zh: "守护进程内部错误", en: "internal error")
        case .refusalUnknown: return Phrase(zh: "被拒绝（未说明原因）", en: "refused")
        case .refusalIdleTimeout: return Phrase(zh: "连接空闲超时", en: "idle timeout")
        case .refusalNoteTooLong: return Phrase(zh: "备注过长", en: "note too long")
        case .refusalStateLost: return Phrase(zh: "状态库已丢失", en: "state lost")
        case .refusalBackupRunning: return Phrase(zh: "已有备份在进行", en: "backup running")
        case .refusalCannotWrite: return Phrase(zh: "无法写入", en: "cannot write")
        case .refusalFileExists: return Phrase(zh: "文件已存在", en: "file exists")
        case .refusalNotPermitted: return Phrase(zh: "不允许", en: "not permitted")
        case .refusalUnknownJob: return Phrase(zh: "没有这个任务", en: "unknown job")
        case .refusalSubstituteCycle: return Phrase(zh: "代理人循环（甲代乙、乙又代甲）", en: "substitutes in a circle")
        case .refusalUnknownStep: return Phrase(zh: "没有这个步骤", en: "unknown step")
        case .refusalNotFailed: return Phrase(zh: "该步骤没有失败，无需重试", en: "the step has not failed")
        case .refusalDuplicate: return Phrase(zh: "同一单位已有相同参数的运行中实例", en: "a duplicate of a running instance")

        case .awayNone: return Phrase(zh: "今天起没有登记的请假", en: "no leave recorded from today on")
        case .headerUser: return Phrase(zh: "用户", en: "USER")
        case .headerFrom: return Phrase(zh: "起", en: "FROM")
        case .headerUntil: return Phrase(zh: "止", en: "UNTIL")
        case .headerSubstitute: return Phrase(zh: "代理人", en: "SUBSTITUTE")
        case .headerRecordedBy: return Phrase(zh: "登记人", en: "RECORDED BY")
        case .awayEnded: return Phrase(zh: "（已结束）", en: "(ended)")
        case .awayRecorded: return Phrase(zh: "{1} 请假 {2} 至 {3}，由 {4} 代理（记录 {5}）",
                                          en: "{1} away {2} – {3}; {4} stands in (record {5})")
        case .awayEndedEarly: return Phrase(zh: "{1}：{2} 至 {3} 的请假已结束（记录 {4}）",
                                            en: "{1}: leave on {2} – {3} ended (record {4})")
        case .nudgeLine: return Phrase(zh: "已催办提醒 {1}（实例 {2}，步骤 {3}），发给 {4}",
                                       en: "nudged reminder {1} (instance {2}, step {3}) to {4}")

        case .pageWritten: return Phrase(zh: "已写入 {1}", en: "wrote {1}")
        case .reportTitle: return Phrase(zh: "工作台账：{1}", en: "Work record: {1}")
        case .reportSteps: return Phrase(zh: "办理情况", en: "Steps")
        case .reportBasis: return Phrase(zh: "依据", en: "Legal basis")
        case .reportDone: return Phrase(zh: "办结", en: "Done")
        case .reportNotes: return Phrase(zh: "备注与填报", en: "Notes and values")
        case .reportMarks: return Phrase(zh: "升级与延误", en: "Escalations and late marks")
        case .reportLedger: return Phrase(zh: "台账记录（哈希链）", en: "Ledger rows (hash chain)")
        case .reportNotVerified: return Phrase(zh: "未校验整条台账：{1}", en: "the whole ledger was not checked: {1}")
        case .reportFooter: return Phrase(zh: "华英 · 实例 {1} · 打印于 {2}", en: "Huaying · instance {1} · printed {2}")
        case .reportAckedBy: return Phrase(zh: "经办人 {1}", en: "by {1}")
        case .boardTitle: return Phrase(zh: "{1}进度看板（{2}）", en: "{1}: progress board ({2})")
        case .boardDone: return Phrase(zh: "已完成", en: "done")
        case .boardNotYetDue: return Phrase(zh: "未到期", en: "not yet due")
        case .boardProvisional: return Phrase(zh: "虚线框：日期暂定（日历中尚无该年节假日安排）", en: "dashed: provisional date (the calendar lacks that year's holidays)")
        case .boardSummary: return Phrase(zh: "{1} 个单位，{2} 个步骤", en: "{1} unit(s), {2} step(s)")
        case .boardEmpty: return Phrase(zh: "该单位以下没有此流程的实例", en: "no instance of this workflow below the unit")
        case .boardFooter: return Phrase(zh: "华英 · 生成于 {1}", en: "Huaying · made {1}")

        case .lintClean: return Phrase(zh: "已检查 {1} 个文件：没有问题", en: "{1} checked: no problems")
        case .lintFound: return Phrase(zh: "已检查 {1} 个文件：{2} 个错误，{3} 个警告", en: "{1} checked: {2}, {3}")
        case .planBadTime: return Phrase(zh: "错误：{1} '{2}' 不是时间；应为 YYYY-MM-DD、YYYY-MM-DDTHH:MM 或 now",
                                         en: "error: {1} '{2}' is not a time; expected YYYY-MM-DD, YYYY-MM-DDTHH:MM or now")
        case .planNoWorkflow: return Phrase(zh: "错误：没有流程文件或编号 '{1}'；应为文件路径或以下之一：{2}",
                                            en: "error: no workflow file or id '{1}'; expected a file path or one of: {2}")
        case .planNoneIn: return Phrase(zh: "（{1} 中没有）", en: "(none in {1})")
        case .startUnknownUnit: return Phrase(zh: "--under '{1}' 不是组织架构中的单位（{2}）", en: "--under '{1}' is not a unit of the org chart ({2})")
        case .backupNoReason: return Phrase(zh: "失败，未说明原因", en: "failed without a reason")

        case .calendarIsWorkday: return Phrase(zh: "{1} 是工作日：{2}{3}", en: "{1} is a workday: {2}{3}")
        case .calendarNotWorkday: return Phrase(zh: "{1} 不是工作日：{2}{3}", en: "{1} is not a workday: {2}{3}")
        case .calendarProvisional: return Phrase(zh: "（暂定）", en: " (provisional)")
        case .dayOrdinaryWorkday: return Phrase(zh: "普通工作日", en: "an ordinary workday")
        case .dayMakeUpWorkday: return Phrase(zh: "{1}调休上班", en: "a make-up workday for {1} (调休上班)")
        case .dayWeekend: return Phrase(zh: "周末休息日", en: "a weekend day")
        case .dayHoliday: return Phrase(zh: "{1}法定节假日", en: "a day off for {1} (法定节假日)")
        case .calendarTitle: return Phrase(zh: "{1} {2}年：{3}", en: "{1} {2}: {3}")
        case .calendarSource: return Phrase(zh: "依据：{1}", en: "source: {1}")
        case .calendarSourceNone: return Phrase(zh: "无——{1}（暂定）", en: "none — {1} (provisional)")
        case .calendarCounts: return Phrase(zh: "工作日 {1} 天，休息日 {2} 天", en: "{1} workdays, {2} days off")
        case .headerHoliday: return Phrase(zh: "节假日", en: "HOLIDAY")
        case .headerDaysOff: return Phrase(zh: "放假", en: "DAYS OFF")
        case .headerMakeUpWorkdays: return Phrase(zh: "调休上班", en: "MAKE-UP WORKDAYS (调休上班)")
        case .headerMakeUpUnknown: return Phrase(zh: "调休上班（未知：暂定）", en: "MAKE-UP WORKDAYS (unknown: provisional)")
        case .calendarOneDay: return Phrase(zh: "1 天", en: "1 day")
        case .calendarDays: return Phrase(zh: "{1} 天", en: "{1} days")
        case .headerKind: return Phrase(zh: "类型", en: "KIND")
        case .headerWhy: return Phrase(zh: "说明", en: "WHY")
        case .kindWorkday: return Phrase(zh: "工作日", en: "workday")
        case .kindDayOff: return Phrase(zh: "休息日", en: "day off")

        case .planDefault: return Phrase(zh: "  （默认）", en: "  (default)")
        case .planStart: return Phrase(zh: "  开始 {1} {2} · 日历 {3} · {4}", en: "  start {1} {2} · calendar {3} · {4}")
        case .planRecord: return Phrase(zh: "（登记）", en: "(record)")
        case .planAckBy: return Phrase(zh: "确认期限 {1}", en: "ack by {1}")
        case .planRemindedEvery: return Phrase(zh: "，每 {1} 提醒一次", en: ", reminded every {1}")
        case .planRemindedUntilAck: return Phrase(zh: "每 {1} 提醒一次，直到确认", en: "reminded every {1} until acknowledged")
        case .planEscalate: return Phrase(zh: "  ↳ 第 {1} 级升级", en: "  ↳ escalate {1}")
        case .planWarning: return Phrase(zh: "注意：{1}", en: "warning: {1}")
        case .planMovedFrom: return Phrase(zh: " [由 {1} 顺延]", en: " [moved from {1}]")
        case .planDayOff: return Phrase(zh: " [休息日：{1}]", en: " [day off: {1}]")
        case .planWeekend: return Phrase(zh: "周末", en: "weekend")
        case .planProvisional: return Phrase(zh: " [暂定]", en: " [provisional]")
        case .planEstimate: return Phrase(zh: " [估计]", en: " [est.]")
        case .planPast: return Phrase(zh: " [已过]", en: " [past]")
        }
    }
}
