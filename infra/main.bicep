// Freshet on Azure: storage (checkpoints, grain state, membership), Event Hubs (samples and
// weights), the silos' managed identity with the least roles each part needs, monitoring, a
// container registry and AKS with a training pool and an autoscaled serving pool.
targetScope = 'resourceGroup'

@description('Short environment name, part of every resource name (e.g. dev, prod).')
@minLength(2)
@maxLength(8)
param environment string

@description('Region of every resource.')
param location string = resourceGroup().location

@description('Event Hubs throughput units.')
param eventHubsCapacity int = 2

@description('Partitions of each sample hub.')
param samplePartitions int = 4

@description('Nodes and VM size of the training pool.')
param trainingNodes int = 2
param trainingVmSize string = 'Standard_D8s_v5'

@description('Autoscale range and VM size of the serving pool.')
param servingMinNodes int = 2
param servingMaxNodes int = 10
param servingVmSize string = 'Standard_D4s_v5'

var tags = {
  application: 'freshet'
  environment: environment
}
var suffix = uniqueString(resourceGroup().id, environment)

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: 'id-freshet-${environment}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: take('stfreshet${environment}${suffix}', 24)
    location: location
    tags: tags
    principalId: identity.outputs.principalId
  }
}

module eventHubs 'modules/eventhubs.bicep' = {
  name: 'eventhubs'
  params: {
    name: 'evhns-freshet-${environment}-${suffix}'
    location: location
    tags: tags
    capacity: eventHubsCapacity
    samplePartitions: samplePartitions
    principalId: identity.outputs.principalId
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: 'log-freshet-${environment}'
    insightsName: 'appi-freshet-${environment}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
  }
}

module aks 'modules/aks.bicep' = {
  name: 'aks'
  params: {
    name: 'aks-freshet-${environment}'
    location: location
    tags: tags
    trainingNodes: trainingNodes
    trainingVmSize: trainingVmSize
    servingMinNodes: servingMinNodes
    servingMaxNodes: servingMaxNodes
    servingVmSize: servingVmSize
    workspaceId: monitoring.outputs.workspaceId
    identityName: identity.outputs.name
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  params: {
    name: take('crfreshet${environment}${suffix}', 50)
    location: location
    tags: tags
    pullPrincipalId: aks.outputs.kubeletPrincipalId
  }
}

// What the silo manifests and `freshet silo --profile azure` need (no secrets: access is by identity).
output identityClientId string = identity.outputs.clientId
output blobEndpoint string = storage.outputs.blobEndpoint
output tableEndpoint string = storage.outputs.tableEndpoint
output eventHubsNamespace string = eventHubs.outputs.fullyQualifiedNamespace
output registryLoginServer string = registry.outputs.loginServer
output aksName string = aks.outputs.name
// Not a secret: ingestion is by the identity (local auth is off); the silos take it as APPLICATIONINSIGHTS_CONNECTION_STRING.
output appInsightsConnectionString string = monitoring.outputs.connectionString
