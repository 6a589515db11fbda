using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace WebConsole.E2E.Infrastructure;

/// <summary>A second tenant for isolation tests: an organization created by the operator, and an API key of its admin.</summary>
internal static partial class OtherOrganizations
{
    /// <summary>
    /// Creates an organization <paramref name="slug"/> with an admin (through <paramref name="operatorClient"/>, the
    /// bootstrap key's), signs the admin in on <paramref name="server"/> and answers an inference_admin key of it.
    /// </summary>
    public static async Task<string> CreateAdminKeyAsync(WebConsoleServer server, HttpClient operatorClient, string slug)
    {
        var email = $"admin@{slug}.example";
        var password = $"admin-password-{slug}";
        using (var created = await operatorClient.PostAsJsonAsync("/api/organizations", new
        {
            name = $"Organization {slug}",
            slug,
            admin = new { email, display_name = "Org Admin", password },
        }))
        {
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        }

        var handler = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
        using var browser = new HttpClient(handler) { BaseAddress = server.BaseAddress };
        var page = await browser.GetStringAsync(new Uri("/account/signin", UriKind.Relative));
        var token = AntiforgeryField().Match(page);
        Assert.True(token.Success, "no antiforgery token on the sign-in page");
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "signin",
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value),
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        });
        using (await browser.PostAsync(new Uri("/account/signin", UriKind.Relative), form))
        {
        }

        using var key = await browser.PostAsJsonAsync("/_security/api_key", new { name = $"{slug}-admin" });
        var body = await key.Content.ReadAsStringAsync();
        Assert.True(key.StatusCode == HttpStatusCode.OK, $"{(int)key.StatusCode}: {body}");
        return (string)JsonNode.Parse(body)!["encoded"]!;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
