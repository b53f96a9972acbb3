"""The CoolProp fluid names the fluid picker offers, cached here.

Importing CoolProp costs about 2 s, far too long to wait for when the window opens, and the
list changes only with a CoolProp release.  ``tests/ui/test_forms.py`` checks that this list
equals ``CoolProp.CoolProp.FluidsList()`` of the installed CoolProp, so a CoolProp upgrade that
adds fluids fails the test; regenerate the tuple then (the picker stays editable meanwhile, so
aliases such as ``CO2`` can always be typed).
"""

COOLPROP_VERSION = '8.0.0'

FLUIDS: tuple[str, ...] = (
    '1-Butene', 'Acetone', 'Air', 'Ammonia', 'Argon', 'Benzene', 'CarbonDioxide',
    'CarbonMonoxide', 'CarbonylSulfide', 'Chlorine', 'cis-2-Butene', 'CycloHexane',
    'Cyclopentane', 'CycloPropane', 'D4', 'D5', 'D6', 'Deuterium', 'Dichloroethane',
    'DiethylEther', 'DimethylCarbonate', 'DimethylEther', 'Ethane', 'Ethanol', 'EthylBenzene',
    'Ethylene', 'EthyleneOxide', 'Fluorine', 'HeavyWater', 'Helium', 'HFE143m', 'Hydrogen',
    'HydrogenChloride', 'HydrogenSulfide', 'IsoButane', 'IsoButene', 'Isohexane', 'Isopentane',
    'Krypton', 'm-Xylene', 'MD2M', 'MD3M', 'MD4M', 'MDM', 'Methane', 'Methanol',
    'MethylLinoleate', 'MethylLinolenate', 'MethylOleate', 'MethylPalmitate', 'MethylStearate',
    'MM', 'n-Butane', 'n-Decane', 'n-Dodecane', 'n-Heptane', 'n-Hexane', 'n-Nonane', 'n-Octane',
    'n-Pentane', 'n-Perfluorobutane', 'n-Perfluorohexane', 'n-Perfluoropentane', 'n-Propane',
    'n-Undecane', 'Neon', 'Neopentane', 'Nitrogen', 'NitrousOxide', 'Novec649', 'o-Xylene',
    'OrthoDeuterium', 'OrthoHydrogen', 'Oxygen', 'p-Xylene', 'ParaDeuterium', 'ParaHydrogen',
    'Propylene', 'PropyleneGlycol', 'Propyne', 'R11', 'R1123', 'R113', 'R1130(E)', 'R1132(E)',
    'R114', 'R115', 'R116', 'R12', 'R1224YDZ', 'R123', 'R1233zd(E)', 'R1234yf', 'R1234ze(E)',
    'R1234ze(Z)', 'R124', 'R1243zf', 'R125', 'R13', 'R1336mzz(E)', 'R1336mzz(Z)', 'R134a',
    'R13I1', 'R14', 'R141b', 'R142b', 'R143a', 'R152A', 'R161', 'R21', 'R218', 'R22', 'R227EA',
    'R23', 'R236EA', 'R236FA', 'R245ca', 'R245fa', 'R32', 'R365MFC', 'R40', 'R404A', 'R407C',
    'R41', 'R410A', 'R507A', 'RC318', 'SES36', 'SulfurDioxide', 'SulfurHexafluoride',
    'Tetrahydrofuran', 'Toluene', 'trans-2-Butene', 'VinylChloride', 'Water', 'Xenon',
)
