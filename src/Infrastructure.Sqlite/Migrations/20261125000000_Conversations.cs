// Written by hand (EF Core design-time tools are not available here). The model snapshot beside it must
// describe the same schema; tests check both against the model and against a real database.
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Sqlite.Migrations;

/// <summary>
/// The playground's saved conversations: per user, each naming the endpoint it talks to (a reference of that endpoint).
/// </summary>
[DbContext(typeof(WebConsoleDbContext))]
[Migration("20261125000000_Conversations")]
public sealed class Conversations : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "Conversations",
            columns: table => new
            {
                Id = table.Column<Guid>(type: "TEXT", nullable: false),
                Content = table.Column<string>(type: "TEXT", nullable: false),
                CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                InferenceId = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                Title = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                UserId = table.Column<Guid>(type: "TEXT", nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_Conversations", x => x.Id);
                table.ForeignKey(
                    name: "FK_Conversations_Organizations_OrganizationId",
                    column: x => x.OrganizationId,
                    principalTable: "Organizations",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
                table.ForeignKey(
                    name: "FK_Conversations_Users_UserId",
                    column: x => x.UserId,
                    principalTable: "Users",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateIndex(
            name: "IX_Conversations_OrganizationId_InferenceId",
            table: "Conversations",
            columns: ["OrganizationId", "InferenceId"]);

        migrationBuilder.CreateIndex(
            name: "IX_Conversations_UserId_UpdatedAt",
            table: "Conversations",
            columns: ["UserId", "UpdatedAt"]);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(name: "Conversations");
    }
}
