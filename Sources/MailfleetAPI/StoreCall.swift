import Foundation

/// Runs a store call, answering 503 when the database cannot be reached.
func database<T: Sendable>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as APIError {
        throw error
    } catch {
        throw APIError.unavailable("the database is not reachable; retry shortly")
    }
}
