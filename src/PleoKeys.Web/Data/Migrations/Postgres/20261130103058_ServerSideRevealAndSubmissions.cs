using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PleoKeys.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ServerSideRevealAndSubmissions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "SubmissionId",
                table: "ApiKeys",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "KeyReveals",
                columns: table => new
                {
                    ApiKeyId = table.Column<Guid>(type: "uuid", nullable: false),
                    UserId = table.Column<string>(type: "character varying(450)", maxLength: 450, nullable: false),
                    SessionStamp = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    ProtectedKey = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    ExpiresAtUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_KeyReveals", x => x.ApiKeyId);
                    table.ForeignKey(
                        name: "FK_KeyReveals_ApiKeys_ApiKeyId",
                        column: x => x.ApiKeyId,
                        principalTable: "ApiKeys",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_SubmissionId",
                table: "ApiKeys",
                column: "SubmissionId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_KeyReveals_ExpiresAtUtc",
                table: "KeyReveals",
                column: "ExpiresAtUtc");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "KeyReveals");

            migrationBuilder.DropIndex(
                name: "IX_ApiKeys_SubmissionId",
                table: "ApiKeys");

            migrationBuilder.DropColumn(
                name: "SubmissionId",
                table: "ApiKeys");
        }
    }
}
