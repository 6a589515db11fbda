namespace WebConsole.Web.Components.Account;

/// <summary>Addresses of the account pages and endpoints (the cookie scheme points at the first three).</summary>
public static class AccountPaths
{
    public const string SignIn = "/account/signin";

    public const string SignOut = "/account/signout";

    public const string AccessDenied = "/account/denied";

    public const string ChangePassword = "/account/password";

    /// <summary>
    /// Whether <paramref name="url"/> stays on this site: a path starting with one slash (not <c>//host</c> or <c>/\host</c>,
    /// which browsers treat as another host). Anything else could send a freshly signed-in user to a phishing page.
    /// </summary>
    public static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url)
        && url[0] == '/'
        && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
        && !url.Any(char.IsControl);

    /// <summary>The return address if it is local, else the portal's home.</summary>
    public static string LocalOrHome(string? url) => IsLocal(url) ? url! : "/";
}
