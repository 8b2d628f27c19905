import Foundation
import Logging
import WorkflowEngine
import WorkflowModel

extension Daemon {
    /// The org chart and calendars the engine computes with. Problems are logged with their
    /// positions and the daemon starts anyway: a missing chart makes reminders fail visibly
    /// (the ledger says why) rather than keeping every other workflow down.
    static func loadSupport(_ config: HuayingConfig, logger: Logger) throws -> EngineSupport {
        let files = SupportFiles(config: config)
        for finding in files.diagnostics {
            switch finding.severity {
            case .error: logger.error("\(finding)")
            case .warning: logger.warning("\(finding)")
            }
        }
        if files.orgChart == nil {
            logger.error("no usable org chart: reminders cannot be addressed until \(config.staffFile) is fixed")
        }
        var support = EngineSupport(calendars: files.calendars, orgChart: files.orgChart, timeZone: config.timeZone)
        support.settings = config.settings
        return support
    }
}
