# The Freshet silo image. Build from the repository root:
#   docker build -t freshet-silo .        (or: az acr build -r REGISTRY -t freshet-silo:TAG .)
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
# The publish also applies the TorchSharp fix for libstdc++ older than GCC 13's (build/TorchSharpNative.targets).
RUN dotnet publish src/Silo/Freshet.Silo.csproj -c Release -o /app --nologo

# ASP.NET Core's runtime: the health endpoints (and the dashboard, by option) are served by Kestrel.
FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# Silo-to-silo and client gateway ports; health probes (/health/startup, /health/ready, /health/live) on 8080.
ENV Freshet__Silo__HttpPort=8080
EXPOSE 11111 30000 8080
USER app
ENTRYPOINT ["dotnet", "Freshet.Silo.dll"]
