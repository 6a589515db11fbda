namespace WebConsole.Web.Apis.Management;

// Outcomes of management operations that are not domain rule violations. The /api exception handler maps them to
// ProblemDetails once; the portal catches them to show a message.

/// <summary>The resource does not exist, or belongs to another organization (which must look the same: 404).</summary>
public sealed class ResourceNotFoundException(string message) : Exception(message);

/// <summary>The resource exists already (a taken slug, team name or membership): 409.</summary>
public sealed class ResourceConflictException(string message) : Exception(message);

/// <summary>The caller may see the resource but not do this to it: 403.</summary>
public sealed class ManagementAccessDeniedException(string message) : Exception(message);
