// Log Analytics and workspace-based Application Insights (Entra ID ingestion only) for the silos'
// OpenTelemetry export (Azure Monitor exporter in the azure profile).
param workspaceName string
param insightsName string
param location string
param tags object

@description('Days logs are kept.')
@minValue(30)
@maxValue(730)
param retentionDays int = 30

@description('Principal (the silos\' managed identity) that publishes telemetry.')
param principalId string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionDays
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: insightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

var metricsPublisher = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '3913510d-42f4-4e42-8a64-420c390055eb')

resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: insights
  name: guid(insights.id, principalId, metricsPublisher)
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: metricsPublisher
  }
}

output workspaceId string = workspace.id
output connectionString string = insights.properties.ConnectionString
