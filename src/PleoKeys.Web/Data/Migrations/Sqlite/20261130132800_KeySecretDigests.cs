using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PleoKeys.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class KeySecretDigests : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "DigestSecretId",
                table: "ApiKeys",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "SecretDigest",
                table: "ApiKeys",
                type: "BLOB",
                maxLength: 32,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "DigestSecretId",
                table: "ApiKeys");

            migrationBuilder.DropColumn(
                name: "SecretDigest",
                table: "ApiKeys");
        }
    }
}
