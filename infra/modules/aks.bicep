// The silos' compute: AKS with a fixed training pool and an autoscaled serving pool (Orleans
// Kubernetes hosting: silos find each other through Azure Table membership and carry their
// roles as silo metadata), workload identity for the silos' managed identity, Container insights.
param name string
param location string
param tags object

@description('Kubernetes version (empty: the region\'s default).')
param kubernetesVersion string = ''

@description('VM size of the training pool (trainers, shards, dense and orchestrator grains).')
param trainingVmSize string = 'Standard_D8s_v5'

@description('Nodes in the training pool.')
@minValue(1)
@maxValue(50)
param trainingNodes int = 2

@description('VM size of the serving pool (replicas and scoring).')
param servingVmSize string = 'Standard_D4s_v5'

@description('Least and most nodes of the autoscaled serving pool.')
@minValue(1)
param servingMinNodes int = 2
@maxValue(100)
param servingMaxNodes int = 10

@description('Log Analytics workspace for Container insights.')
param workspaceId string

@description('The silos\' managed identity (federated with the silo service account).')
param identityName string

@description('Kubernetes namespace and service account the silos run as.')
param siloNamespace string = 'freshet'
param siloServiceAccount string = 'freshet-silo'

resource cluster 'Microsoft.ContainerService/managedClusters@2024-09-01' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    kubernetesVersion: empty(kubernetesVersion) ? null : kubernetesVersion
    dnsPrefix: name
    enableRBAC: true
    disableLocalAccounts: true
    aadProfile: {
      managed: true
      enableAzureRBAC: true
    }
    oidcIssuerProfile: {
      enabled: true
    }
    securityProfile: {
      workloadIdentity: {
        enabled: true
      }
    }
    addonProfiles: {
      omsagent: {
        enabled: true
        config: {
          logAnalyticsWorkspaceResourceID: workspaceId
        }
      }
    }
    agentPoolProfiles: [
      {
        name: 'system'
        mode: 'System'
        count: 1
        vmSize: 'Standard_D2s_v5'
        osType: 'Linux'
        osSKU: 'AzureLinux'
      }
      {
        name: 'training'
        mode: 'User'
        count: trainingNodes
        vmSize: trainingVmSize
        osType: 'Linux'
        osSKU: 'AzureLinux'
        nodeLabels: {
          'freshet/role': 'training'
        }
      }
      {
        name: 'serving'
        mode: 'User'
        enableAutoScaling: true
        count: servingMinNodes
        minCount: servingMinNodes
        maxCount: servingMaxNodes
        vmSize: servingVmSize
        osType: 'Linux'
        osSKU: 'AzureLinux'
        nodeLabels: {
          'freshet/role': 'serving'
        }
      }
    ]
  }
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

resource federation 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: identity
  name: 'aks-${siloServiceAccount}'
  properties: {
    issuer: cluster.properties.oidcIssuerProfile.issuerURL
    subject: 'system:serviceaccount:${siloNamespace}:${siloServiceAccount}'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}

output name string = cluster.name
output kubeletPrincipalId string = cluster.properties.identityProfile.kubeletidentity.objectId
output oidcIssuer string = cluster.properties.oidcIssuerProfile.issuerURL
