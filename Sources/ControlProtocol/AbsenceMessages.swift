import Foundation

/// One window of `huaying away`: who is away on which days (both included) and who stands in.
public struct AbsenceInfo: Codable, Equatable, Sendable {
    public var id: Int
    public var user: String
    /// Null when the record ends the person's windows on those days.
    @NullEncoded public var substitute: String?
    /// `YYYY-MM-DD` in the daemon's zone.
    public var from: String
    public var until: String
    public var recordedBy: String
    public var recordedAt: String

    public init(id: Int, user: String, substitute: String?, from: String, until: String, recordedBy: String, recordedAt: String) {
        self.id = id
        self.user = user
        self.substitute = substitute
        self.from = from
        self.until = until
        self.recordedBy = recordedBy
        self.recordedAt = recordedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, user, substitute, from, until
        case recordedBy = "recorded_by"
        case recordedAt = "recorded_at"
    }
}
