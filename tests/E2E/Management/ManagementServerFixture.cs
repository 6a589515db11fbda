using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using WebConsole.E2E.Infrastructure;

namespace WebConsole.E2E.Management;

/// <summary>One real server with the bootstrap key (which belongs to the operator) shared by the management tests.</summary>
public sealed partial class ManagementServerFixture : IAsyncLifetime
{
    public const string BootstrapSecret = "management-e2e-bootstrap-secret-0123456789abcdef";

    public const string OperatorPassword = "operator-password-for-e2e";

    public const string UserAgent = "webconsole-management-e2e/1.0";

    public const string OperatorEmail = "operator@webconsole.local";

    private WebConsoleServer? _server;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync() => _server = await WebConsoleServer.StartAsync(new Dictionary<string, string?>
    {
        ["WebConsole:Bootstrap:ApiKey"] = BootstrapSecret,
        ["WebConsole:Bootstrap:OperatorPassword"] = OperatorPassword,
    });

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A client that sends the bootstrap key (the operator's, organization admin of the default organization).</summary>
    public HttpClient Operator() => WithKey($"bootstrap:{BootstrapSecret}");

    public HttpClient WithKey(string idColonSecret)
    {
        var client = Server.CreateClient();
        client.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("ApiKey", Convert.ToBase64String(Encoding.UTF8.GetBytes(idColonSecret)));
        client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
        return client;
    }

    /// <summary>Signs in through the portal's form (with its antiforgery token) and answers a client carrying the cookie.</summary>
    public async Task<HttpClient> SignInAsync(string email, string password)
    {
        var handler = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
        var client = new HttpClient(handler) { BaseAddress = Server.BaseAddress, Timeout = TimeSpan.FromMinutes(1) };
        client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);

        var page = await client.GetStringAsync(new Uri("/account/signin", UriKind.Relative));
        var token = AntiforgeryField().Match(page);
        Assert.True(token.Success, $"no antiforgery token on the sign-in page:\n{page}");
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "signin",
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value),
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        });
        using var response = await client.PostAsync(new Uri("/account/signin", UriKind.Relative), form);
        Assert.True(
            handler.CookieContainer.GetCookies(Server.BaseAddress).Any(c => c.Name == ".WebConsole.Session"),
            $"sign-in as {email} set no session cookie ({(int)response.StatusCode}):\n{await response.Content.ReadAsStringAsync()}");
        return client;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
