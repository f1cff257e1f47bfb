"""The multinode tier: clouds whose machines are namespaces that share
nothing but the network (devstack/lib/nodes.sh and the engines' libraries
under devstack/lib/), each test module bringing up what it proves."""
