namespace WebConsole.Web.Security;

/// <summary>Authorization policy names. Every route declares one of them, or is explicitly anonymous.</summary>
public static class Policies
{
    /// <summary>Elasticsearch's manage_inference: create, change and delete endpoints and keys.</summary>
    public const string ManageInference = "manage_inference";

    /// <summary>Elasticsearch's monitor_inference: list endpoints and run inference.</summary>
    public const string MonitorInference = "monitor_inference";

    /// <summary>Administers the caller's organization (teams, members, audit).</summary>
    public const string OrganizationAdmin = "organization_admin";

    /// <summary>Operates the installation (catalog, backends, prices, global limits).</summary>
    public const string PlatformOperator = "platform_operator";
}

/// <summary>Authentication scheme names.</summary>
public static class AuthenticationSchemes
{
    /// <summary><c>Authorization: ApiKey base64(id:secret)</c> or <c>Bearer base64(id:secret)</c>.</summary>
    public const string ApiKey = "ApiKey";

    /// <summary>The portal's sign-in cookie.</summary>
    public const string Cookie = "Cookies";

    /// <summary>The default policy scheme: API key when an Authorization header is present, else the cookie.</summary>
    public const string ApiKeyOrCookie = "ApiKeyOrCookie";
}
