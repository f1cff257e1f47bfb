"""The base of the compute agent's parts (guests, state reports, network
sync, power sync, reconcile, resizes): each holds the agent
(ComputeManager) and reaches its public parts through it, never its
private names."""


class AgentPart:
    def __init__(self, agent):
        self.agent = agent

    @property
    def conductor(self):
        return self.agent.conductor

    @property
    def host(self):
        return self.agent.host

    @property
    def driver(self):
        return self.agent.driver

    @property
    def block(self):
        return self.agent.block

    @property
    def reports(self):
        return self.agent.reports
