namespace WebConsole.Infrastructure.Usage;

/// <summary>
/// The usage ledger cannot take another record (its buffer is full while the database is unavailable, or the server is
/// stopping): the request is refused (503) rather than served unbilled.
/// </summary>
public sealed class UsageLedgerUnavailableException(string message, Exception? innerException = null) : Exception(message, innerException);
