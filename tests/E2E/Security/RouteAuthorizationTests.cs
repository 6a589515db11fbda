using System.Net;
using System.Text;
using System.Text.Json;

namespace WebConsole.E2E.Security;

/// <summary>
/// Driven by the application's route table: every route declares its authorization or is explicitly public, and every
/// non-public route refuses missing, expired and invalidated credentials, and refuses an inference_user key where it
/// needs more.
/// </summary>
public sealed class RouteAuthorizationTests(SecurityServer fixture) : IClassFixture<SecurityServer>
{
    private static readonly Lazy<IReadOnlyList<RouteInfo>> Routes = new(RouteTable.Load);

    private static IEnumerable<RouteInfo> Protected => Routes.Value.Where(r => !r.IsPublic);

    [Fact]
    public void Every_route_declares_authorization_or_is_explicitly_public()
    {
        Assert.Contains(Routes.Value, r => r.Pattern == "/_security/api_key" && r.Method == "POST" && r.IsManageRoute);
        Assert.Contains(Routes.Value, r => r.Pattern == "/healthz" && r.IsPublic);
        var undeclared = Routes.Value.Where(r => !r.IsPublic && !r.DeclaresAuthorization).Select(r => r.ToString()).ToList();
        Assert.True(undeclared.Count == 0, "Routes without [Authorize]/RequireAuthorization or AllowAnonymous:\n" + string.Join("\n", undeclared));
    }

    [Fact]
    public async Task Every_protected_route_refuses_a_request_without_credentials()
    {
        using var client = NoRedirects(null);
        var failures = new List<string>();
        foreach (var route in Protected)
        {
            using var response = await SendAsync(client, route);
            var ok = route.IsPortalPage || !IsApi(route)
                ? response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.Unauthorized
                    && (response.StatusCode == HttpStatusCode.Unauthorized || response.Headers.Location?.ToString().Contains("/account/signin", StringComparison.Ordinal) == true)
                : response.StatusCode == HttpStatusCode.Unauthorized;
            if (!ok)
            {
                failures.Add($"{route}: {(int)response.StatusCode} {response.Headers.Location}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Every_manage_route_refuses_an_inference_user_key()
    {
        var (_, encoded) = await fixture.CreateKeyAsync(new { name = "monitor only", metadata = new { role = "inference_user" } });
        using var client = NoRedirects(encoded);
        var manage = Protected.Where(r => r.IsManageRoute).ToList();
        Assert.NotEmpty(manage);
        var failures = new List<string>();
        foreach (var route in manage)
        {
            using var response = await SendAsync(client, route);
            if (response.StatusCode != HttpStatusCode.Forbidden)
            {
                failures.Add($"{route}: {(int)response.StatusCode}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Every_protected_route_refuses_expired_and_invalidated_keys()
    {
        var (_, expired) = await fixture.CreateKeyAsync(new { name = "short lived", expiration = "1s" });
        var (invalidatedId, invalidated) = await fixture.CreateKeyAsync(new { name = "revoked" });
        using (var admin = fixture.Bootstrap())
        using (var revoke = await admin.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/_security/api_key")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { ids = new[] { invalidatedId } }), Encoding.UTF8, "application/json"),
        }))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var failures = new List<string>();
        foreach (var encoded in new[] { expired, invalidated })
        {
            using var client = NoRedirects(encoded);
            foreach (var route in Protected)
            {
                using var response = await SendAsync(client, route);
                if (response.StatusCode != HttpStatusCode.Unauthorized)
                {
                    failures.Add($"{route} ({(encoded == expired ? "expired" : "invalidated")}): {(int)response.StatusCode}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static bool IsApi(RouteInfo route) =>
        route.Pattern.StartsWith("/_", StringComparison.Ordinal) && !route.Pattern.StartsWith("/_blazor", StringComparison.Ordinal)
        || route.Pattern.StartsWith("/api", StringComparison.Ordinal) || route.Pattern.StartsWith("/v1", StringComparison.Ordinal);

    private HttpClient NoRedirects(string? encoded)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = fixture.Server.BaseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
        if (encoded is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("ApiKey", encoded);
        }

        return client;
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, RouteInfo route)
    {
        var request = new HttpRequestMessage(new HttpMethod(route.Method), route.SamplePath);
        if (route.Method is "POST" or "PUT" or "PATCH" or "DELETE")
        {
            request.Content = route.ContentType.Contains("form", StringComparison.Ordinal)
                ? new FormUrlEncodedContent([new KeyValuePair<string, string>("returnUrl", "/")])
                : new StringContent("{}", Encoding.UTF8, route.ContentType);
        }

        return client.SendAsync(request);
    }
}
