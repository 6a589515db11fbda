using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Audit;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.Tenancy;
using WebConsole.Infrastructure.Identity;

namespace WebConsole.Unit.Identity;

public sealed class TenantFilterTests
{
    [Fact]
    public async Task A_context_for_one_organization_cannot_read_another_organizations_rows()
    {
        await using var database = await IdentityTestDatabase.CreateAsync();
        var now = DateTimeOffset.UnixEpoch;
        var user = User.Create(Guid.NewGuid(), "ada@example.com", "Ada", null, false, now);
        await using (var seed = database.CreateDbContext())
        {
            seed.Add(user);
            foreach (var (organization, team) in new[] { (database.OrganizationA, database.TeamA), (database.OrganizationB, database.TeamB) })
            {
                seed.AddRange(
                    OrganizationMembership.Create(organization.Id, user.Id, OrganizationRole.Member, now),
                    TeamMembership.Create(team.Id, user.Id, TeamRole.Member, now),
                    ApiKey.Create("key-" + organization.Slug, "k", organization.Id, team.Id, null, "sha256:00", ApiKeyRole.InferenceUser, null, null, now),
                    InferenceEndpoint.Create(Guid.NewGuid(), organization.Id, InferenceId.Parse("my-e5"), TaskType.TextEmbedding, "openai", "{}", null, null, null, now),
                    AuditEntry.Create(Guid.NewGuid(), organization.Id, null, null, "system", "test", "thing", organization.Slug, null, null, null, now));
            }

            await seed.SaveChangesAsync();
        }

        await using (var a = database.CreateDbContext(FixedTenantContext.For(database.OrganizationA.Id)))
        {
            Assert.Equal([database.OrganizationA.Id], await a.Organizations.Select(o => o.Id).ToListAsync());
            Assert.Equal([database.TeamA.Id], await a.Teams.Select(t => t.Id).ToListAsync());
            Assert.Equal([database.TeamA.Id], await a.TeamMemberships.Select(m => m.TeamId).ToListAsync());
            Assert.Equal([database.OrganizationA.Id], await a.OrganizationMemberships.Select(m => m.OrganizationId).ToListAsync());
            Assert.Equal(["key-org-a"], await a.ApiKeys.Select(k => k.Id).ToListAsync());
            Assert.Equal([database.OrganizationA.Id], await a.InferenceEndpoints.Select(e => e.OrganizationId).ToListAsync());
            Assert.Equal(["org-a"], await a.AuditEntries.Select(e => e.ResourceId).ToListAsync());

            // Asking for B's rows by id finds nothing, as if they did not exist.
            Assert.Null(await a.ApiKeys.SingleOrDefaultAsync(k => k.Id == "key-org-b"));
            Assert.Null(await a.Teams.SingleOrDefaultAsync(t => t.Id == database.TeamB.Id));
        }

        await using (var nobody = database.CreateDbContext(FixedTenantContext.None))
        {
            Assert.Empty(await nobody.Organizations.ToListAsync());
            Assert.Empty(await nobody.ApiKeys.ToListAsync());
            Assert.Empty(await nobody.TeamMemberships.ToListAsync());
        }

        await using var system = database.CreateDbContext();
        Assert.Equal(2, await system.ApiKeys.CountAsync());
        Assert.Equal(2, await system.InferenceEndpoints.CountAsync());
    }
}
