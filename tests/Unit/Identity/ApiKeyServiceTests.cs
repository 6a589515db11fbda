using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Tenancy;
using WebConsole.Infrastructure.Identity;
using WebConsole.Unit.Inference.Deployments;

namespace WebConsole.Unit.Identity;

public sealed class ApiKeyServiceTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private readonly RecordingAuditLog _audit = new();
    private IdentityTestDatabase _database = null!;
    private ApiKeyCache _cache = null!;
    private ApiKeyService _service = null!;

    public async Task InitializeAsync()
    {
        _database = await IdentityTestDatabase.CreateAsync();
        _cache = new ApiKeyCache(_time);
        _service = new ApiKeyService(_database, _cache, _audit, _time);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    private static CallerIdentity Admin(Guid organization, Guid team) =>
        new(organization, team, null, "admin-key", PrivilegeNames.Of(ApiKeyRole.InferenceAdmin), false, false, []);

    private CallerIdentity AdminA => Admin(_database.OrganizationA.Id, _database.TeamA.Id);

    [Fact]
    public async Task A_created_key_authenticates_and_only_its_hash_is_stored()
    {
        var created = await _service.CreateAsync(AdminA, "ci", ApiKeyRole.InferenceUser, null, ["my-e5"]);

        var caller = await _service.AuthenticateAsync(created.Id, created.Secret, default);
        Assert.NotNull(caller);
        Assert.Equal(_database.OrganizationA.Id, caller.OrganizationId);
        Assert.Equal(_database.TeamA.Id, caller.TeamId);
        Assert.Equal([Privilege.MonitorInference], caller.Privileges);
        Assert.Equal(["my-e5"], caller.AllowedEndpoints);
        Assert.Null(await _service.AuthenticateAsync(created.Id, created.Secret + "x", default));

        await using var context = _database.CreateDbContext();
        var stored = await context.ApiKeys.SingleAsync(k => k.Id == created.Id);
        Assert.Equal(ApiKeySecrets.Hash(created.Secret), stored.SecretHash);
        Assert.Equal(_database.OrganizationA.Id, stored.OrganizationId);
        Assert.Contains(("api_key.create", created.Id, _database.OrganizationA.Id), _audit.Entries);
    }

    [Fact]
    public async Task Invalidation_clears_the_cache_at_once()
    {
        var created = await _service.CreateAsync(AdminA, "ci", ApiKeyRole.InferenceAdmin, null, []);
        Assert.NotNull(await _service.AuthenticateAsync(created.Id, created.Secret, default)); // now cached

        var result = await _service.InvalidateAsync(AdminA, [created.Id]);

        Assert.Equal([created.Id], result.Invalidated);
        Assert.Null(await _service.AuthenticateAsync(created.Id, created.Secret, default));
        Assert.Contains(("api_key.invalidate", created.Id, _database.OrganizationA.Id), _audit.Entries);
        var again = await _service.InvalidateAsync(AdminA, [created.Id]);
        Assert.Equal([created.Id], again.PreviouslyInvalidated);
    }

    [Fact]
    public async Task A_cached_key_stops_working_when_it_expires()
    {
        var created = await _service.CreateAsync(AdminA, "short", ApiKeyRole.InferenceUser, _time.GetUtcNow().AddSeconds(10), []);
        Assert.NotNull(await _service.AuthenticateAsync(created.Id, created.Secret, default)); // cached for 30 s

        _time.Advance(TimeSpan.FromSeconds(11));

        Assert.Null(await _service.AuthenticateAsync(created.Id, created.Secret, default));
    }

    [Fact]
    public async Task An_invalidation_on_another_node_is_seen_after_the_cache_lifetime()
    {
        var created = await _service.CreateAsync(AdminA, "ci", ApiKeyRole.InferenceUser, null, []);
        Assert.NotNull(await _service.AuthenticateAsync(created.Id, created.Secret, default));
        await using (var otherNode = _database.CreateDbContext())
        {
            (await otherNode.ApiKeys.SingleAsync(k => k.Id == created.Id)).Invalidate(_time.GetUtcNow());
            await otherNode.SaveChangesAsync();
        }

        Assert.NotNull(await _service.AuthenticateAsync(created.Id, created.Secret, default)); // still trusted, within 30 s
        _time.Advance(ApiKeyCache.Lifetime);
        Assert.Null(await _service.AuthenticateAsync(created.Id, created.Secret, default));
    }

    [Fact]
    public async Task A_user_key_cannot_create_or_invalidate_keys()
    {
        var user = new CallerIdentity(_database.OrganizationA.Id, _database.TeamA.Id, null, "user-key",
            PrivilegeNames.Of(ApiKeyRole.InferenceUser), false, false, []);
        await Assert.ThrowsAsync<ApiKeyAccessDeniedException>(() => _service.CreateAsync(user, "x", ApiKeyRole.InferenceUser, null, []));
        var created = await _service.CreateAsync(AdminA, "ci", ApiKeyRole.InferenceUser, null, []);
        await Assert.ThrowsAsync<ApiKeyAccessDeniedException>(() => _service.InvalidateAsync(user, [created.Id]));
        Assert.NotNull(await _service.AuthenticateAsync(created.Id, created.Secret, default));
    }

    [Fact]
    public async Task Another_organizations_key_is_not_found_and_not_changed()
    {
        var keyOfB = await _service.CreateAsync(Admin(_database.OrganizationB.Id, _database.TeamB.Id), "b", ApiKeyRole.InferenceUser, null, []);

        var result = await _service.InvalidateAsync(AdminA, [keyOfB.Id]);
        Assert.Empty(result.Invalidated);
        Assert.Empty(result.PreviouslyInvalidated);
        Assert.Empty(await _service.ListAsync(AdminA, keyOfB.Id));
        Assert.NotNull(await _service.AuthenticateAsync(keyOfB.Id, keyOfB.Secret, default));
        await Assert.ThrowsAsync<WebConsole.Domain.DomainValidationException>(
            () => _service.CreateAsync(AdminA, "into b", ApiKeyRole.InferenceUser, null, [], _database.TeamB.Id));
    }

    [Fact]
    public async Task A_team_admin_manages_only_its_own_teams_keys()
    {
        var otherTeam = Team.Create(Guid.NewGuid(), _database.OrganizationA.Id, "Ranking", DateTimeOffset.UnixEpoch);
        await using (var context = _database.CreateDbContext())
        {
            context.Teams.Add(otherTeam);
            await context.SaveChangesAsync();
        }

        var organizationAdmin = AdminA with { IsOrganizationAdmin = true };
        var keyOfOtherTeam = await _service.CreateAsync(organizationAdmin, "ranking", ApiKeyRole.InferenceUser, null, [], otherTeam.Id);

        await Assert.ThrowsAsync<ApiKeyAccessDeniedException>(
            () => _service.CreateAsync(AdminA, "into ranking", ApiKeyRole.InferenceUser, null, [], otherTeam.Id));
        var result = await _service.InvalidateAsync(AdminA, [keyOfOtherTeam.Id]);
        Assert.Empty(result.Invalidated);
        Assert.NotNull(await _service.AuthenticateAsync(keyOfOtherTeam.Id, keyOfOtherTeam.Secret, default));

        Assert.Equal([keyOfOtherTeam.Id], (await _service.InvalidateAsync(organizationAdmin, [keyOfOtherTeam.Id])).Invalidated);
    }
}
